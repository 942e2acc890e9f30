//! `features` says what hull does: every namespace it lists can be made, every
//! capability it lists can be given, every mount option it lists is accepted.

mod common;

use common::*;
use serde_json::{json, Value};

fn features(case: &Case) -> Value {
    let out = case.run(&["features"]);
    out.ok();
    serde_json::from_str(out.out()).unwrap()
}

#[test]
fn every_listed_namespace_and_capability_works() {
    if !is_hull() {
        return;
    }
    let case = Case::new("features_ns_caps");
    let f = features(&case);
    let namespaces: Vec<String> = serde_json::from_value(f["linux"]["namespaces"].clone()).unwrap();
    let caps: Vec<String> = serde_json::from_value(f["linux"]["capabilities"].clone()).unwrap();
    assert_eq!(f["hooks"].as_array().unwrap().len(), 6);
    let mut b = case.bundle("featuresall");
    for ns in &namespaces {
        match ns.as_str() {
            "user" => {
                b.user_namespace(0, 100_000, 65_536);
            }
            other => {
                b.add_namespace(other);
            }
        }
    }
    let cap_refs: Vec<&str> = caps.iter().map(String::as_str).collect();
    for set in ["bounding", "effective", "permitted"] {
        b.caps(set, &cap_refs);
    }
    let script = namespaces
        .iter()
        .map(|ns| {
            let file = match ns.as_str() {
                "mount" => "mnt",
                "network" => "net",
                other => other,
            };
            format!("echo {ns}=$(readlink /proc/self/ns/{file})")
        })
        .chain(["grep CapBnd /proc/self/status | tr -d '\\t' | tr : =".to_string()])
        .collect::<Vec<_>>()
        .join("; ");
    b.sh(&script);
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    for ns in &namespaces {
        let file = match ns.as_str() {
            "mount" => "mnt",
            "network" => "net",
            other => other,
        };
        let host = std::fs::read_link(format!("/proc/self/ns/{file}")).unwrap();
        assert_ne!(
            kv[ns.as_str()],
            host.to_str().unwrap(),
            "{ns} is the host's:\n{out}"
        );
    }
    // The kernel may know fewer capabilities than hull; the ones it knows are all there.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let want = (0..=last.min(caps.len() as u32 - 1)).fold(0u64, |m, c| m | 1 << c);
    assert_eq!(
        u64::from_str_radix(&kv["CapBnd"], 16).unwrap(),
        want,
        "{out}"
    );
    case.finish();
}

#[test]
fn every_listed_mount_option_is_accepted() {
    if !is_hull() {
        return;
    }
    let case = Case::new("features_mounts");
    let f = features(&case);
    let options: Vec<String> = serde_json::from_value(f["mountOptions"].clone()).unwrap();
    assert!(options.len() > 40, "{options:?}");
    let vol = case.dir.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    // Each option on a bind mount of its own: the container starts, so each was taken.
    let mut b = case.bundle("featuresmounts");
    for (i, o) in options.iter().enumerate() {
        let mut opts = vec!["rbind".to_string()];
        if o != "bind" && o != "rbind" && o != "remount" {
            opts.push(o.clone());
        }
        let mut m = json!({ "destination": format!("/m/{i}"), "type": "bind", "source": vol.to_str().unwrap(), "options": opts });
        // idmap and ridmap take the mount's mappings, the container having no user
        // namespace to take them from.
        if o == "idmap" || o == "ridmap" {
            let ids = json!([{"containerID": 0, "hostID": 0, "size": 65536}]);
            m["uidMappings"] = ids.clone();
            m["gidMappings"] = ids;
        }
        b.add_mount(m);
    }
    b.set("/root/readonly", json!(false));
    b.args(&["true"]);
    let out = case.run_container(&b);
    out.ok();
    case.finish();
}

/// Every seccomp action (but NOTIFY, which needs an agent: seccomp.rs), operator and
/// supported flag that `features` lists goes into one profile, and the container runs
/// under it.
#[test]
fn every_listed_seccomp_action_operator_and_flag_is_accepted() {
    if !is_hull() {
        return;
    }
    let case = Case::new("features_seccomp");
    let f = features(&case)["linux"]["seccomp"].clone();
    assert_eq!(f["enabled"], true);
    let names = |key: &str| -> Vec<String> { serde_json::from_value(f[key].clone()).unwrap() };
    // Rules on syscalls the container never makes, so that KILL and TRAP never fire.
    let unused = [
        "acct",
        "swapon",
        "swapoff",
        "pivot_root",
        "kexec_load",
        "init_module",
        "delete_module",
        "reboot",
        "syslog",
    ];
    let mut rules: Vec<Value> = names("actions")
        .iter()
        .filter(|a| *a != "SCMP_ACT_NOTIFY" && *a != "SCMP_ACT_ALLOW")
        .zip(unused)
        .map(|(a, sc)| json!({ "names": [sc], "action": a }))
        .collect();
    assert_eq!(rules.len(), 7, "{f}");
    for op in names("operators") {
        rules.push(json!({ "names": ["quotactl"], "action": "SCMP_ACT_ERRNO",
                           "args": [{ "index": 0, "value": 7, "valueTwo": 7, "op": op }] }));
    }
    let mut b = case.bundle("featuresseccomp");
    b.set(
        "/linux/seccomp",
        json!({ "defaultAction": "SCMP_ACT_ALLOW", "flags": names("supportedFlags"), "syscalls": rules }),
    );
    b.sh("grep -E '^Seccomp:' /proc/self/status | tr -d '\\t'");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out().trim(), "Seccomp:2", "{out}");
    case.finish();
}

/// Every memory policy mode and flag `features` lists runs a container (with node 0,
/// where the mode takes nodes), and `ociVersionMax` is a version hull reads.
#[test]
fn every_listed_memory_policy_runs() {
    if !is_hull() {
        return;
    }
    let case = Case::new("features_mempolicy");
    let f = features(&case);
    assert_eq!(f["ociVersionMax"], "1.3.0");
    let policy = &f["linux"]["memoryPolicy"];
    let modes = policy["modes"].as_array().expect("modes");
    assert_eq!(modes.len(), 7, "{policy}");
    for (i, mode) in modes.iter().enumerate() {
        let mode = mode.as_str().unwrap();
        let mut b = case.bundle(&format!("mode{i}"));
        let nodes = !matches!(mode, "MPOL_DEFAULT" | "MPOL_LOCAL");
        let value = if nodes {
            json!({"mode": mode, "nodes": "0"})
        } else {
            json!({"mode": mode})
        };
        b.set("/linux/memoryPolicy", value);
        b.args(&["true"]);
        case.run_container(&b).ok();
    }
    for (i, flag) in policy["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .enumerate()
    {
        let mut b = case.bundle(&format!("flag{i}"));
        b.set(
            "/linux/memoryPolicy",
            json!({"mode": "MPOL_BIND", "nodes": "0", "flags": [flag]}),
        );
        b.args(&["true"]);
        case.run_container(&b).ok();
    }
    case.finish();
}
