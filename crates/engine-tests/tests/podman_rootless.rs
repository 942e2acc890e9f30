//! Rootless podman, podman's main use: an unprivileged user (made by the test) runs,
//! execs into, stops and removes containers with `podman --runtime hull`, which runs
//! hull as root of the user's own user namespace.

use engine_tests::*;

#[test]
fn rootless_podman_runs_containers_on_hull() {
    let scratch = Scratch::new("podmanrl");
    let netns = Netns::new("hullpodmanrl");
    let wrapper = Wrapper::new(&scratch);
    let user = User::new(&scratch, "prl");
    let podman = |args: &[&str]| {
        let mut cmd = user.command(&netns, "podman");
        cmd.arg("--runtime").arg(&wrapper.path).args(args);
        cmd
    };
    run_ok(podman(&["load", "-i"]).arg(images::busybox()));

    let ran = run_code(&mut podman(&[
        "run",
        "--rm",
        "--network",
        "none",
        images::BUSYBOX,
        "sh",
        "-c",
        "id -u; exit 5",
    ]));
    assert_eq!(ran.code, 5, "{ran}");
    assert!(ran.out.starts_with("0\n"), "{ran}");

    run_ok(&mut podman(&[
        "run",
        "-d",
        "--name",
        "r1",
        "--network",
        "none",
        images::BUSYBOX,
        "sleep",
        "300",
    ]));
    let ran = run_code(&mut podman(&["exec", "r1", "sh", "-c", "exit 6"]));
    assert_eq!(ran.code, 6, "{ran}");
    run_ok(&mut podman(&["stop", "-t", "2", "r1"]));
    let status = run_ok(&mut podman(&["inspect", "-f", "{{.State.Status}}", "r1"]));
    assert_eq!(status.trim(), "exited");
    run_ok(&mut podman(&["rm", "r1"]));
    assert_eq!(run_ok(&mut podman(&["ps", "-aq"])).trim(), "");
    // hull kept its state where runc's rule puts a user's: none is left.
    let left = std::fs::read_dir(user.runtime_dir.join("hull"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "hull state left");
    assert!(wrapper.calls().contains("create"), "hull was never called");
}
