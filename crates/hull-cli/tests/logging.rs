//! `--log FILE --log-format json`: the lines containerd reads (`level`, `msg`, `time`),
//! errors included, read back line by line; `--debug` adds detail.

mod common;

use common::*;
use serde_json::Value;

fn log_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

#[test]
fn errors_go_to_the_json_log() {
    let case = Case::new("log_json");
    let log = case.dir.join("log.json");
    let out = case.run(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "state",
        "no-such-container",
    ]);
    assert_eq!(out.code, 1, "{out}");
    let lines = log_lines(&log);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "error");
    assert!(
        lines[0]["msg"].as_str().unwrap().contains("does not exist"),
        "{lines:?}"
    );
    let time = lines[0]["time"].as_str().unwrap();
    assert!(
        time.len() >= 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{time}"
    );
    case.finish();
}

#[test]
fn debug_adds_detail_to_the_log() {
    if !is_hull() {
        return;
    }
    let case = Case::new("log_debug");
    let mut b = case.bundle("logdebug");
    b.args(&["true"]);
    b.write();
    let log = case.dir.join("debug.json");
    let out = case.run(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "--debug",
        "run",
        "--bundle",
        b.dir_str(),
        &b.id,
    ]);
    out.ok();
    let lines = log_lines(&log);
    assert!(!lines.is_empty(), "no debug lines");
    assert!(lines.iter().all(|l| l["level"] == "debug"), "{lines:?}");
    case.finish();
}
