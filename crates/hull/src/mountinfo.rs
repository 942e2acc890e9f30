//! Reading `/proc/self/mountinfo`: the mounts the cgroup code and the rootfs code need
//! to find (cgroup hierarchies, the mount that holds a path).

use std::path::PathBuf;

/// One line of mountinfo, the fields hull uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// The path inside the filesystem that is mounted (field 4).
    pub root: PathBuf,
    pub mount_point: PathBuf,
    /// A member of a peer group (optional field `shared:N`).
    pub shared: bool,
    pub fstype: String,
    /// Superblock options (for cgroup v1: the controllers, `name=…`).
    pub super_options: Vec<String>,
}

/// Undoes mountinfo's octal escapes (`\040` for a space, …).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(digits, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses mountinfo text; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let mut right = right.split(' ');
            let fstype = right.next()?.to_string();
            let _source = right.next()?;
            let super_options = right
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::to_string)
                .collect();
            Some(MountEntry {
                root: unescape(left.get(3)?).into(),
                mount_point: unescape(left.get(4)?).into(),
                shared: left.iter().skip(6).any(|f| f.starts_with("shared:")),
                fstype,
                super_options,
            })
        })
        .collect()
}

/// The calling process's mounts.
pub fn read_self() -> std::io::Result<Vec<MountEntry>> {
    Ok(parse(&crate::procfs::read_generated(
        "/proc/self/mountinfo".as_ref(),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cgroup_lines_and_escapes() {
        let text =
            "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n\
                    31 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
                    40 25 8:1 /a\\040b /mnt/x\\040y rw - ext4 /dev/vda rw\n\
                    garbage\n";
        let m = parse(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].fstype, "cgroup");
        assert_eq!(m[0].super_options, ["rw", "memory"]);
        assert!(m[0].shared && !m[1].shared);
        assert_eq!(m[1].mount_point, PathBuf::from("/sys/fs/cgroup/unified"));
        assert_eq!(m[2].root, PathBuf::from("/a b"));
        assert_eq!(m[2].mount_point, PathBuf::from("/mnt/x y"));
    }

    #[test]
    fn optional_fields_may_be_many_or_none() {
        let text = "36 35 98:0 /mnt1 /mnt/parent master:1 shared:2 propagate_from:3 - ext3 /dev/root rw,errors=continue\n\
                    37 35 98:0 / /a rw master:4 - tmpfs tmpfs rw\n\
                    38 35 98:0 / /b rw - tmpfs tmpfs rw\n";
        let m = parse(text);
        assert_eq!(m.len(), 3);
        assert!(m[0].shared && !m[1].shared && !m[2].shared);
        assert_eq!(m[0].root, PathBuf::from("/mnt1"));
        assert_eq!(m[0].fstype, "ext3");
        assert_eq!(m[0].super_options, ["rw", "errors=continue"]);
        assert_eq!(m[2].mount_point, PathBuf::from("/b"));
    }

    #[test]
    fn every_escape_mountinfo_uses_is_undone() {
        assert_eq!(unescape(r"a\040b\011c\012d\134e"), "a b\tc\nd\\e");
        // Not an octal escape: left as it is.
        assert_eq!(unescape(r"a\9xyz"), r"a\9xyz");
        assert_eq!(unescape(r"end\04"), r"end\04");
        assert_eq!(unescape(r"\040"), " ");
        assert_eq!(unescape("plain"), "plain");
    }

    #[test]
    fn lines_without_the_separator_or_enough_fields_are_skipped() {
        let text = "1 2 3:4 / /ok rw - proc proc rw\n\
                    1 2 3:4 / /no-separator rw proc proc rw\n\
                    1 2 3:4 / - proc proc rw\n\
                    1 2 3:4 / /no-source rw - proc\n\
                    \n";
        let m = parse(text);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].mount_point, PathBuf::from("/ok"));
    }

    #[test]
    fn this_process_has_a_root_mount() {
        let mounts = read_self().unwrap();
        assert!(mounts
            .iter()
            .any(|m| m.mount_point == std::path::Path::new("/")));
        assert!(mounts.iter().any(|m| m.fstype == "proc"));
    }
}
