//! Idmapped mounts (OCI `mounts[].uidMappings`/`gidMappings`, options `idmap` and
//! `ridmap`): what a mount asks for, and the checks its mappings must pass before the
//! kernel sees them, with the kernel's own rules for an id map.

use serde::{Deserialize, Serialize};

use super::IdMap;

/// The kernel's limit on lines of one id map (`UID_GID_MAP_MAX_EXTENTS`).
pub const MAX_LINES: usize = 340;

/// A bind mount whose files show their owners through a user namespace's mappings:
/// an id `n` on disk is read as `n` inside the namespace, and shows as the host id it
/// maps to (files created through the mount are stored the other way round).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountIdmap {
    /// The mount's own mappings (`containerID` → `hostID`); both empty means the
    /// container's user namespace: its `linux.uidMappings`/`gidMappings`, or the one
    /// it joins by path.
    pub uid_mappings: Vec<IdMap>,
    /// The mount's own group id mappings; see `uid_mappings`.
    pub gid_mappings: Vec<IdMap>,
    /// `ridmap`: every mount below the bind (of an `rbind`) is idmapped too; `idmap`
    /// (or mappings alone) maps the bind's own mount only.
    pub recursive: bool,
}

impl MountIdmap {
    /// True when the mount uses the container's user namespace rather than its own.
    pub fn uses_containers(&self) -> bool {
        self.uid_mappings.is_empty() && self.gid_mappings.is_empty()
    }
}

/// A refused id map: the part of the field it is about (`""`, `"[2]"`, `"[2].size"`:
/// appended to the map's own field name) and why.
pub type MapError = (String, String);

/// Checks one id map as the kernel would take it: at least one line and at most
/// [`MAX_LINES`], no empty range, no range past the last id (`u32::MAX` is no id),
/// and no two ranges overlapping on either side.
pub fn check(maps: &[IdMap]) -> Result<(), MapError> {
    let refuse = |at: String, why: String| Err((at, why));
    if maps.is_empty() {
        return refuse(String::new(), "must have at least one mapping".into());
    }
    if maps.len() > MAX_LINES {
        let why = format!(
            "has {} mappings; the kernel takes at most {MAX_LINES}",
            maps.len()
        );
        return refuse(String::new(), why);
    }
    // The end of a range, exclusive; the last valid id is u32::MAX - 1.
    let end = |start: u32, size: u32| u64::from(start) + u64::from(size);
    for (i, m) in maps.iter().enumerate() {
        if m.size == 0 {
            return refuse(format!("[{i}].size"), "must not be 0".into());
        }
        if end(m.container_id, m.size) > u64::from(u32::MAX)
            || end(m.host_id, m.size) > u64::from(u32::MAX)
        {
            return refuse(
                format!("[{i}]"),
                "runs past the last id (4294967294)".into(),
            );
        }
        for (j, other) in maps[..i].iter().enumerate() {
            let meet =
                |a: u32, b: u32| end(a, m.size) > u64::from(b) && end(b, other.size) > u64::from(a);
            for (side, a, b) in [
                ("containerID", m.container_id, other.container_id),
                ("hostID", m.host_id, other.host_id),
            ] {
                if meet(a, b) {
                    return refuse(format!("[{i}]"), format!("overlaps [{j}] in {side}"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(container_id: u32, host_id: u32, size: u32) -> IdMap {
        IdMap {
            container_id,
            host_id,
            size,
        }
    }

    fn refused(maps: &[IdMap]) -> String {
        let (at, why) = check(maps).expect_err("refused");
        format!("{at}: {why}")
    }

    #[test]
    fn good_maps_pass() {
        assert!(check(&[m(0, 100000, 65536)]).is_ok());
        assert!(check(&[m(0, 1000, 1), m(1, 100000, 65535)]).is_ok());
        // Ranges that touch do not overlap.
        assert!(check(&[m(0, 10, 10), m(10, 20, 10)]).is_ok());
        // The very last id.
        assert!(check(&[m(u32::MAX - 1, 0, 1)]).is_ok());
    }

    #[test]
    fn empty_maps_and_ranges_are_refused() {
        assert_eq!(refused(&[]), ": must have at least one mapping");
        assert_eq!(
            refused(&[m(0, 0, 1), m(5, 5, 0)]),
            "[1].size: must not be 0"
        );
    }

    #[test]
    fn ranges_past_the_last_id_are_refused() {
        let past = "[0]: runs past the last id (4294967294)";
        assert_eq!(refused(&[m(u32::MAX, 0, 1)]), past);
        assert_eq!(refused(&[m(0, u32::MAX - 10, 11)]), past);
        assert_eq!(refused(&[m(1, 0, u32::MAX)]), past);
    }

    #[test]
    fn overlaps_on_either_side_are_refused() {
        assert_eq!(
            refused(&[m(0, 100, 10), m(5, 500, 10)]),
            "[1]: overlaps [0] in containerID"
        );
        assert_eq!(
            refused(&[m(0, 100, 10), m(50, 95, 10)]),
            "[1]: overlaps [0] in hostID"
        );
        // A range inside another.
        assert_eq!(
            refused(&[m(0, 0, 100), m(200, 10, 5)]),
            "[1]: overlaps [0] in hostID"
        );
    }

    #[test]
    fn at_most_340_lines() {
        let maps: Vec<IdMap> = (0..340).map(|i| m(i * 2, i * 2, 1)).collect();
        assert!(check(&maps).is_ok());
        let maps: Vec<IdMap> = (0..341).map(|i| m(i * 2, i * 2, 1)).collect();
        assert_eq!(
            refused(&maps),
            ": has 341 mappings; the kernel takes at most 340"
        );
    }

    #[test]
    fn the_containers_namespace_is_empty_mappings() {
        assert!(MountIdmap::default().uses_containers());
        let own = MountIdmap {
            uid_mappings: vec![m(0, 1, 1)],
            ..MountIdmap::default()
        };
        assert!(!own.uses_containers());
    }
}
