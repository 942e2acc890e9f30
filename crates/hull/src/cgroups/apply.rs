//! Applying a resource plan: the file writes a driver worked out, in order, all or
//! nothing. What each file held before is read first, and if a write fails the earlier
//! ones are put back (newest first), so a failed `update` leaves the old limits.

use std::fs;
use std::path::PathBuf;

use super::CgroupError;

/// One write of a plan: `value` into `path`, for the OCI field `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub field: &'static str,
    pub path: PathBuf,
    pub value: String,
}

impl Write {
    pub fn new(field: &'static str, path: PathBuf, value: impl Into<String>) -> Write {
        Write {
            field,
            path,
            value: value.into(),
        }
    }
}

fn write(w: &Write) -> Result<(), CgroupError> {
    fs::write(&w.path, &w.value).map_err(|source| CgroupError::Resource {
        field: w.field,
        path: w.path.clone(),
        value: w.value.clone(),
        source,
    })
}

/// Performs `plan`; on failure restores what was written and returns the failure.
pub fn apply(plan: &[Write]) -> Result<(), CgroupError> {
    let mut done: Vec<Write> = Vec::with_capacity(plan.len());
    for w in plan {
        let before = fs::read_to_string(&w.path).ok();
        if let Err(e) = write(w) {
            for undo in done.iter().rev() {
                let _ = write(undo);
            }
            return Err(e);
        }
        if let Some(before) = before {
            done.push(Write::new(w.field, w.path.clone(), restorable(&before)));
        }
    }
    Ok(())
}

/// What a file read back as, in the form it takes when written (first line only; the
/// list files of v1 throttles and v2 io.max take one line per write).
fn restorable(read: &str) -> String {
    read.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_restores_the_earlier_ones() {
        let dir = std::env::temp_dir().join(format!("hull-apply-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a");
        fs::write(&a, "old\n").unwrap();
        let plan = [
            Write::new("x.a", a.clone(), "new"),
            Write::new("x.missing", dir.join("no/such/file"), "1"),
        ];
        let err = apply(&plan).unwrap_err();
        assert!(err.to_string().contains("x.missing"), "{err}");
        assert_eq!(fs::read_to_string(&a).unwrap(), "old");
        apply(&plan[..1]).unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "new");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn what_was_read_is_restored_as_one_line() {
        assert_eq!(restorable("max 100000\n"), "max 100000");
        // List files (v1 throttles, io.max) read back one line per device.
        assert_eq!(
            restorable("8:0 rbps=1 wbps=max\n8:16 rbps=2\n"),
            "8:0 rbps=1 wbps=max"
        );
        assert_eq!(restorable(""), "");
    }

    #[test]
    fn a_plan_is_applied_in_order() {
        let dir = crate::test_util::Scratch::new("apply-order");
        let f = dir.write("f", "0\n");
        let g = dir.write("g", "");
        let plan = [
            Write::new("x.f", f.clone(), "1"),
            Write::new("x.g", g.clone(), "2"),
            Write::new("x.f", f.clone(), "3"),
        ];
        apply(&plan).unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "3");
        assert_eq!(fs::read_to_string(&g).unwrap(), "2");
        // The error names the field, the file and the value.
        let bad = [Write::new("x.bad", dir.join("none/x"), "7")];
        match apply(&bad).unwrap_err() {
            CgroupError::Resource { field, value, .. } => {
                assert_eq!((field, value.as_str()), ("x.bad", "7"))
            }
            other => panic!("{other}"),
        }
    }
}
