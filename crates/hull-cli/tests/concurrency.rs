//! Many commands at once: on distinct containers nothing interferes; on the same id
//! exactly one create wins, the rest get a clear error, and state.json stays whole.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// (exit code, stdout, stderr) of the runtime with `--root root`, callable from any
/// thread (the test harness's `Case` is not shared across threads). Output goes to
/// files: a created container's init holds create's stdout open, a pipe would not end.
fn run(root: &Path, args: &[&str]) -> (i32, String, String) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = root.parent().unwrap().join("out");
    std::fs::create_dir_all(&dir).unwrap();
    let (out_path, err_path) = (
        dir.join(format!("par{n}.out")),
        dir.join(format!("par{n}.err")),
    );
    let status = std::process::Command::new(runtime())
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .status()
        .unwrap();
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    (
        status.code().unwrap_or(-1),
        read(&out_path),
        read(&err_path),
    )
}

#[test]
fn fifty_containers_in_parallel() {
    let case = Case::new("par_distinct");
    let bundles: Vec<(String, PathBuf)> = (0..50)
        .map(|i| {
            let mut b = case.bundle(&format!("par{i}"));
            b.args(&["sleep", "60"]);
            b.write();
            (b.id.clone(), b.dir.clone())
        })
        .collect();
    let root = case.root.clone();
    let handles: Vec<_> = bundles
        .into_iter()
        .map(|(id, dir)| {
            let root = root.clone();
            std::thread::spawn(move || {
                let ok = |args: &[&str]| {
                    let (code, out, err) = run(&root, args);
                    assert_eq!(code, 0, "{args:?}: {out} {err}");
                    out
                };
                ok(&["create", "--bundle", dir.to_str().unwrap(), &id]);
                ok(&["start", &id]);
                assert_eq!(ok(&["exec", &id, "echo", "in", &id]), format!("in {id}"));
                let state: serde_json::Value = serde_json::from_str(&ok(&["state", &id])).unwrap();
                assert_eq!(state["status"], "running");
                ok(&["delete", "--force", &id]);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    case.finish();
}

#[test]
fn fifty_creates_on_one_id() {
    let case = Case::new("par_same");
    let mut b = case.bundle("parsame");
    b.args(&["sleep", "60"]);
    b.write();
    let (root, id, dir) = (case.root.clone(), b.id.clone(), b.dir.clone());
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (root, id, dir) = (root.clone(), id.clone(), dir.clone());
            std::thread::spawn(move || {
                run(&root, &["create", "--bundle", dir.to_str().unwrap(), &id])
            })
        })
        .collect();
    let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outs.iter().filter(|o| o.0 == 0).count(), 1, "{outs:?}");
    for (code, _, err) in outs.iter().filter(|o| o.0 != 0) {
        assert_eq!(*code, 1);
        assert!(
            err.contains("already exists") && err.lines().count() == 1,
            "{err}"
        );
    }
    assert_eq!(case.status(&id), "created");
    // Starts, states, kills and deletes at once: each ends in success or one clear line.
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let (root, id) = (root.clone(), id.clone());
            std::thread::spawn(move || match i % 4 {
                0 => run(&root, &["start", &id]),
                1 => run(&root, &["state", &id]),
                2 => run(&root, &["kill", &id, "KILL"]),
                _ => run(&root, &["delete", "--force", &id]),
            })
        })
        .collect();
    for h in handles {
        let (code, out, err) = h.join().unwrap();
        assert!(code == 0 || err.lines().count() == 1, "{code}: {out} {err}");
        if code == 0 && out.starts_with('{') {
            // A state read while others change the container is still whole JSON.
            serde_json::from_str::<serde_json::Value>(&out).unwrap();
        }
    }
    run(&root, &["delete", "--force", &id]);
    case.finish();
}
