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
}
