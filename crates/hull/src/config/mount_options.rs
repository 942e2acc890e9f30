//! fstab-style mount options (`ro`, `nosuid`, `rbind`, `rprivate`, `rro`, `size=64k`, …)
//! turned into what the kernel takes: `mount(2)` flags, propagation changes,
//! `mount_setattr(2)` attributes for bind mounts, and the filesystem data string.

use serde::{Deserialize, Serialize};

/// `MOUNT_ATTR_*` bits (linux/mount.h).
pub mod attr {
    /// `MOUNT_ATTR_RDONLY`: read-only.
    pub const RDONLY: u64 = 0x1;
    /// `MOUNT_ATTR_NOSUID`: set-user-id and set-group-id bits are ignored.
    pub const NOSUID: u64 = 0x2;
    /// `MOUNT_ATTR_NODEV`: device files cannot be opened.
    pub const NODEV: u64 = 0x4;
    /// `MOUNT_ATTR_NOEXEC`: programs cannot be executed.
    pub const NOEXEC: u64 = 0x8;
    /// `MOUNT_ATTR__ATIME`: the bits of the access time setting (one of the three below, or none for `relatime`).
    pub const ATIME_MASK: u64 = 0x70;
    /// `MOUNT_ATTR_NOATIME`: access times are not updated.
    pub const NOATIME: u64 = 0x10;
    /// `MOUNT_ATTR_STRICTATIME`: access times are updated on every access.
    pub const STRICTATIME: u64 = 0x20;
    /// `MOUNT_ATTR_NODIRATIME`: directory access times are not updated.
    pub const NODIRATIME: u64 = 0x80;
    /// `MOUNT_ATTR_NOSYMFOLLOW`: symbolic links are not followed on path resolution.
    pub const NOSYMFOLLOW: u64 = 0x0020_0000;
}

/// Attribute changes for a mount: bits to set and bits to clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttrChange {
    /// [`attr`] bits to set.
    pub set: u64,
    /// [`attr`] bits to clear (for the access time, [`attr::ATIME_MASK`] with a setting in `set`).
    pub clear: u64,
}

impl AttrChange {
    /// Whether there is nothing to change.
    pub fn is_empty(&self) -> bool {
        self.set == 0 && self.clear == 0
    }
}

/// The parsed form of a mount's option list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountOptions {
    /// `MS_*` flags for `mount(2)` (`MS_BIND`/`MS_REC` included for bind mounts).
    pub flags: u64,
    /// Propagation changes (`MS_SHARED`, `MS_PRIVATE`, … possibly with `MS_REC`), in order.
    pub propagation: Vec<u64>,
    /// Attributes applied to the mount itself after it is made (bind mounts take `ro`,
    /// `nosuid`, … this way, since `mount(2)` ignores them on a bind).
    pub attrs: AttrChange,
    /// Attributes applied to the whole subtree (`rro`, `rnosuid`, …).
    pub recursive_attrs: AttrChange,
    /// Everything the kernel does not know as a flag: handed to the filesystem.
    pub data: Vec<String>,
    /// `tmpcopyup` (runc's): a tmpfs starts with a copy of what it covers.
    #[serde(default)]
    pub copy_up: bool,
    /// `idmap` (`Some(false)`) or `ridmap` (`Some(true)`, every mount below too): the
    /// mount is idmapped (see [`super::idmap`]).
    #[serde(default)]
    pub idmap: Option<bool>,
}

impl MountOptions {
    /// Whether the options make a bind mount (`bind` or `rbind`).
    pub fn is_bind(&self) -> bool {
        self.flags & libc::MS_BIND != 0
    }
}

#[derive(Clone, Copy)]
enum Opt {
    /// A flag that is set (true) or cleared (false), and its mount attribute.
    Flag(u64, bool, u64),
    Propagation(u64),
    Recursive(u64, bool),
    CopyUp,
    /// `idmap` (false) or `ridmap` (true).
    Idmap(bool),
}

/// Every option hull knows, and what it does (also what `features` lists).
const OPTIONS: &[(&str, Opt)] = {
    use libc::*;
    use Opt::*;
    &[
        ("ro", Flag(MS_RDONLY, true, attr::RDONLY)),
        ("rw", Flag(MS_RDONLY, false, attr::RDONLY)),
        ("nosuid", Flag(MS_NOSUID, true, attr::NOSUID)),
        ("suid", Flag(MS_NOSUID, false, attr::NOSUID)),
        ("nodev", Flag(MS_NODEV, true, attr::NODEV)),
        ("dev", Flag(MS_NODEV, false, attr::NODEV)),
        ("noexec", Flag(MS_NOEXEC, true, attr::NOEXEC)),
        ("exec", Flag(MS_NOEXEC, false, attr::NOEXEC)),
        ("sync", Flag(MS_SYNCHRONOUS, true, 0)),
        ("async", Flag(MS_SYNCHRONOUS, false, 0)),
        ("dirsync", Flag(MS_DIRSYNC, true, 0)),
        ("remount", Flag(MS_REMOUNT, true, 0)),
        ("mand", Flag(MS_MANDLOCK, true, 0)),
        ("nomand", Flag(MS_MANDLOCK, false, 0)),
        ("atime", Flag(MS_NOATIME, false, attr::NOATIME)),
        ("noatime", Flag(MS_NOATIME, true, attr::NOATIME)),
        ("diratime", Flag(MS_NODIRATIME, false, attr::NODIRATIME)),
        ("nodiratime", Flag(MS_NODIRATIME, true, attr::NODIRATIME)),
        ("relatime", Flag(MS_RELATIME, true, 0)),
        ("norelatime", Flag(MS_RELATIME, false, 0)),
        ("strictatime", Flag(MS_STRICTATIME, true, attr::STRICTATIME)),
        (
            "nostrictatime",
            Flag(MS_STRICTATIME, false, attr::STRICTATIME),
        ),
        ("lazytime", Flag(MS_LAZYTIME, true, 0)),
        ("nolazytime", Flag(MS_LAZYTIME, false, 0)),
        ("defaults", Flag(0, true, 0)),
        ("acl", Flag(MS_POSIXACL, true, 0)),
        ("noacl", Flag(MS_POSIXACL, false, 0)),
        ("iversion", Flag(MS_I_VERSION, true, 0)),
        ("noiversion", Flag(MS_I_VERSION, false, 0)),
        ("silent", Flag(MS_SILENT, true, 0)),
        ("loud", Flag(MS_SILENT, false, 0)),
        ("nosymfollow", Flag(MS_NOSYMFOLLOW, true, attr::NOSYMFOLLOW)),
        ("symfollow", Flag(MS_NOSYMFOLLOW, false, attr::NOSYMFOLLOW)),
        ("bind", Flag(MS_BIND, true, 0)),
        ("rbind", Flag(MS_BIND | MS_REC, true, 0)),
        ("private", Propagation(MS_PRIVATE)),
        ("rprivate", Propagation(MS_PRIVATE | MS_REC)),
        ("shared", Propagation(MS_SHARED)),
        ("rshared", Propagation(MS_SHARED | MS_REC)),
        ("slave", Propagation(MS_SLAVE)),
        ("rslave", Propagation(MS_SLAVE | MS_REC)),
        ("unbindable", Propagation(MS_UNBINDABLE)),
        ("runbindable", Propagation(MS_UNBINDABLE | MS_REC)),
        ("rro", Recursive(attr::RDONLY, true)),
        ("rrw", Recursive(attr::RDONLY, false)),
        ("rnosuid", Recursive(attr::NOSUID, true)),
        ("rsuid", Recursive(attr::NOSUID, false)),
        ("rnodev", Recursive(attr::NODEV, true)),
        ("rdev", Recursive(attr::NODEV, false)),
        ("rnoexec", Recursive(attr::NOEXEC, true)),
        ("rexec", Recursive(attr::NOEXEC, false)),
        ("rnodiratime", Recursive(attr::NODIRATIME, true)),
        ("rdiratime", Recursive(attr::NODIRATIME, false)),
        ("rnoatime", Recursive(attr::NOATIME, true)),
        ("ratime", Recursive(attr::NOATIME, false)),
        ("rnostrictatime", Recursive(attr::STRICTATIME, false)),
        // relatime is the kernel's default: asking for its absence changes nothing.
        ("rnorelatime", Recursive(0, false)),
        ("rstrictatime", Recursive(attr::STRICTATIME, true)),
        ("rrelatime", Recursive(attr::ATIME_MASK, false)),
        ("rnosymfollow", Recursive(attr::NOSYMFOLLOW, true)),
        ("rsymfollow", Recursive(attr::NOSYMFOLLOW, false)),
        ("tmpcopyup", CopyUp),
        ("idmap", Idmap(false)),
        ("ridmap", Idmap(true)),
    ]
};

fn lookup(name: &str) -> Option<Opt> {
    OPTIONS.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
}

/// The names of all mount options hull understands.
pub fn names() -> impl Iterator<Item = &'static str> {
    OPTIONS.iter().map(|(n, _)| *n)
}

fn change(c: &mut AttrChange, bit: u64, on: bool) {
    // The atime modes are one field: choosing one clears the others.
    let mask = if bit & attr::ATIME_MASK != 0 {
        attr::ATIME_MASK
    } else {
        bit
    };
    if on {
        c.set = (c.set & !mask) | bit;
        c.clear |= mask;
    } else {
        c.set &= !mask;
        c.clear |= mask;
    }
}

/// Parses an OCI mount's `options`. Unknown words go to the filesystem as data, as
/// runc does.
pub fn parse(options: &[String]) -> Result<MountOptions, super::InvalidValue> {
    let mut out = MountOptions::default();
    for opt in options {
        match lookup(opt) {
            Some(Opt::Flag(flag, on, a)) => {
                if on {
                    out.flags |= flag;
                } else {
                    out.flags &= !flag;
                }
                if a != 0 {
                    change(&mut out.attrs, a, on);
                }
            }
            Some(Opt::Propagation(p)) => out.propagation.push(p),
            Some(Opt::Recursive(a, on)) => change(&mut out.recursive_attrs, a, on),
            Some(Opt::CopyUp) => out.copy_up = true,
            // The last of idmap and ridmap wins, as for every other pair.
            Some(Opt::Idmap(recursive)) => out.idmap = Some(recursive),
            None => out.data.push(opt.clone()),
        }
    }
    // mount_setattr wants set and clear apart, except that setting an atime mode
    // requires clearing the whole atime field.
    for c in [&mut out.attrs, &mut out.recursive_attrs] {
        c.clear &= !c.set | attr::ATIME_MASK;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(opts: &[&str]) -> MountOptions {
        parse(&opts.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn flags_data_and_propagation() {
        let o = p(&["nosuid", "noexec", "mode=755", "size=65536k", "rslave"]);
        assert_eq!(o.flags, libc::MS_NOSUID | libc::MS_NOEXEC);
        assert_eq!(o.data, ["mode=755", "size=65536k"]);
        assert_eq!(o.propagation, [libc::MS_SLAVE | libc::MS_REC]);
        assert!(!o.is_bind());
    }

    #[test]
    fn bind_with_attributes() {
        let o = p(&["rbind", "ro", "nodev", "rnosuid"]);
        assert!(o.is_bind());
        assert_eq!(o.flags & libc::MS_REC, libc::MS_REC);
        assert_eq!(o.attrs.set, attr::RDONLY | attr::NODEV);
        assert_eq!(o.recursive_attrs.set, attr::NOSUID);
    }

    #[test]
    fn later_option_wins() {
        let o = p(&["ro", "rw"]);
        assert_eq!(o.flags & libc::MS_RDONLY, 0);
        assert_eq!(o.attrs.set & attr::RDONLY, 0);
        assert_eq!(o.attrs.clear & attr::RDONLY, attr::RDONLY);
    }

    #[test]
    fn runc_extensions() {
        assert!(p(&["tmpcopyup"]).copy_up);
        assert_eq!(p(&["rbind"]).idmap, None);
        assert_eq!(p(&["bind", "idmap"]).idmap, Some(false));
        assert_eq!(p(&["rbind", "ridmap"]).idmap, Some(true));
        assert_eq!(p(&["ridmap", "idmap"]).idmap, Some(false));
        // Neither is filesystem data.
        assert!(p(&["idmap", "ridmap"]).data.is_empty());
        assert!(names().any(|n| n == "idmap") && names().any(|n| n == "ridmap"));
    }

    #[test]
    fn every_name_is_known_once_and_never_filesystem_data() {
        let all: Vec<&str> = names().collect();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "a name listed twice");
        for name in all {
            assert!(p(&[name]).data.is_empty(), "{name}");
        }
        assert_eq!(
            p(&["size=1m", "ro", "x-custom"]).data,
            ["size=1m", "x-custom"]
        );
    }

    #[test]
    fn each_flag_is_undone_by_its_opposite_and_the_last_word_wins() {
        use libc::*;
        for (on, off, flag) in [
            ("ro", "rw", MS_RDONLY),
            ("nosuid", "suid", MS_NOSUID),
            ("nodev", "dev", MS_NODEV),
            ("noexec", "exec", MS_NOEXEC),
            ("sync", "async", MS_SYNCHRONOUS),
            ("mand", "nomand", MS_MANDLOCK),
            ("noatime", "atime", MS_NOATIME),
            ("nodiratime", "diratime", MS_NODIRATIME),
            ("relatime", "norelatime", MS_RELATIME),
            ("strictatime", "nostrictatime", MS_STRICTATIME),
            ("lazytime", "nolazytime", MS_LAZYTIME),
            ("acl", "noacl", MS_POSIXACL),
            ("iversion", "noiversion", MS_I_VERSION),
            ("silent", "loud", MS_SILENT),
            ("nosymfollow", "symfollow", MS_NOSYMFOLLOW),
        ] {
            assert_eq!(p(&[on]).flags, flag, "{on}");
            assert_eq!(p(&[off]).flags, 0, "{off}");
            assert_eq!(p(&[on, off]).flags, 0, "{on},{off}");
            assert_eq!(p(&[off, on]).flags, flag, "{off},{on}");
        }
        for (word, flag) in [
            ("dirsync", MS_DIRSYNC),
            ("remount", MS_REMOUNT),
            ("bind", MS_BIND),
            ("rbind", MS_BIND | MS_REC),
            ("defaults", 0),
        ] {
            assert_eq!(p(&[word]).flags, flag, "{word}");
        }
    }

    #[test]
    fn propagation_words_are_kept_in_order() {
        use libc::*;
        for (word, value) in [
            ("private", MS_PRIVATE),
            ("rprivate", MS_PRIVATE | MS_REC),
            ("shared", MS_SHARED),
            ("rshared", MS_SHARED | MS_REC),
            ("slave", MS_SLAVE),
            ("rslave", MS_SLAVE | MS_REC),
            ("unbindable", MS_UNBINDABLE),
            ("runbindable", MS_UNBINDABLE | MS_REC),
        ] {
            let o = p(&[word]);
            assert_eq!((o.propagation, o.flags), (vec![value], 0), "{word}");
        }
        assert_eq!(
            p(&["shared", "rslave"]).propagation,
            [MS_SHARED, MS_SLAVE | MS_REC]
        );
    }

    #[test]
    fn attributes_are_set_or_cleared_never_both() {
        let o = p(&["bind", "ro", "nosuid"]);
        assert_eq!(
            o.attrs,
            AttrChange {
                set: attr::RDONLY | attr::NOSUID,
                clear: 0
            }
        );
        let o = p(&["bind", "rw", "exec"]);
        assert_eq!(
            o.attrs,
            AttrChange {
                set: 0,
                clear: attr::RDONLY | attr::NOEXEC
            }
        );
        // No attribute for flags mount_setattr does not know.
        assert!(p(&["bind", "sync", "lazytime"]).attrs.is_empty());
        let o = p(&[
            "rro",
            "rnosuid",
            "rnodev",
            "rnoexec",
            "rnodiratime",
            "rnosymfollow",
        ]);
        let all = attr::RDONLY
            | attr::NOSUID
            | attr::NODEV
            | attr::NOEXEC
            | attr::NODIRATIME
            | attr::NOSYMFOLLOW;
        assert_eq!(o.recursive_attrs, AttrChange { set: all, clear: 0 });
        let o = p(&["rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"]);
        assert_eq!(o.recursive_attrs, AttrChange { set: 0, clear: all });
        assert!(o.attrs.is_empty() && o.flags == 0);
        // The kernel's default: nothing to do.
        assert!(p(&["rnorelatime"]).recursive_attrs.is_empty());
    }

    #[test]
    fn an_atime_mode_replaces_the_others_and_clears_the_whole_field() {
        let o = p(&["bind", "noatime", "strictatime"]);
        assert_eq!(o.attrs.set, attr::STRICTATIME);
        assert_eq!(o.attrs.clear, attr::ATIME_MASK);
        let o = p(&["rnoatime"]);
        assert_eq!(
            o.recursive_attrs,
            AttrChange {
                set: attr::NOATIME,
                clear: attr::ATIME_MASK
            }
        );
        let o = p(&["rstrictatime", "rrelatime"]);
        // relatime is the field's zero value.
        assert_eq!(
            o.recursive_attrs,
            AttrChange {
                set: 0,
                clear: attr::ATIME_MASK
            }
        );
        let o = p(&["rnoatime", "ratime"]);
        assert_eq!(o.recursive_attrs.set, 0);
        // nodiratime is a bit of its own, outside the atime field.
        let o = p(&["rnoatime", "rnodiratime"]);
        assert_eq!(o.recursive_attrs.set, attr::NOATIME | attr::NODIRATIME);
    }

    #[test]
    fn parsed_options_cross_json_intact() {
        let o = p(&[
            "rbind",
            "ro",
            "rnoatime",
            "rslave",
            "tmpcopyup",
            "ridmap",
            "uid=5",
        ]);
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<MountOptions>(&json).unwrap(), o);
        // State written before copy_up and idmap existed still loads.
        let old = r#"{"flags":0,"propagation":[],"attrs":{"set":0,"clear":0},
            "recursive_attrs":{"set":0,"clear":0},"data":[]}"#;
        let o: MountOptions = serde_json::from_str(old).unwrap();
        assert_eq!(o, MountOptions::default());
    }
}
