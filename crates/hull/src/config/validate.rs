//! Every check of a container's configuration, in one place: [`Config::validate`] and
//! [`Process::validate`](crate::Process::validate) (and
//! [`Resources::validate`](super::resources::Resources::validate) for `update`) run
//! them before anything of the container exists, whether the values came from
//! config.json ([`crate::spec`] only converts) or from a program embedding the library.
//! Every refusal names the OCI field, as config.json spells it.
//!
//! - namespaces: at most one of each kind; uid and gid mappings exactly with a new user
//!   namespace, each a map the kernel takes; offsets of the monotonic and boottime
//!   clocks (nanoseconds below a second) only with a new time namespace;
//! - the filesystem: absolute paths for the rootfs, mount destinations, bind sources,
//!   device nodes, masked and read-only paths; a type for a mount that is no bind, a
//!   source for a bind; device nodes of type c, b or p with permission bits only; a
//!   root propagation that is one;
//! - the cgroup: a path without `..`; device rules of type a, b or c, access some of
//!   `rwm`, no negative numbers; limits positive or -1, swap not below the memory limit,
//!   swappiness, CPU shares, period and idle, block I/O weights in their ranges, CPU
//!   and node lists that parse, throttled devices with device numbers;
//! - hooks: absolute paths, timeouts of a second or more;
//! - seccomp: a profile libseccomp compiles, at most 6 arguments, notifications not by
//!   default nor for `sendmsg`, and an absolute listener path when a rule notifies;
//! - the personality and NUMA memory policy: what their syscalls take (their `check`
//!   in [`super::scheduling`]);
//! - a process: a program, an absolute working directory, `KEY=value` environment,
//!   a umask of 9 bits, an OOM score adjustment in -1000..1000, known rlimits each once
//!   with the soft limit within the hard, a scheduler and I/O priority the kernel takes;
//! - on the host: the namespaces to join, the bind sources and the network devices to
//!   move exist;
//! - a setting scoped to a namespace (a sysctl, the hostname, the domain name) needs
//!   that namespace to be the container's own: a new one, or one joined by path that
//!   is not the runtime's own (which is the host's);
//! - without a mount namespace of its own the container shares the host's filesystem
//!   as it is: nothing may be mounted, masked, made read-only or created there, and
//!   the root can only be the host's `/` (a chroot is no isolation: a process with
//!   CAP_SYS_CHROOT leaves it); joining the runtime's own mount namespace by path is
//!   refused (every mount, and pivot_root, would be the host's);
//! - network devices (`linux.netDevices`) go into a network namespace of the
//!   container's own, new or joined by path (as runc 1.3 and the spec allow: the
//!   orchestrator's pod namespace is the usual target), under valid names that do not
//!   collide; and they must exist in the runtime's network namespace;
//! - an idmapped mount is a bind, with a valid pair of mappings of its own or a user
//!   namespace of the container's to take them from.

mod filesystem;
mod hooks;
mod host;
mod ids;
pub(crate) mod process;
pub(crate) mod resources;
mod seccomp;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::idmap::{self, MountIdmap};
use super::{Config, Mount, NamespaceKind};
use crate::error::ConfigError;

type Result<T> = std::result::Result<T, ConfigError>;

/// Checks `config` against the rules above (what [`Config::validate`] does); the
/// namespaces joined by path are compared with the calling process's own.
pub(crate) fn check(config: &Config) -> Result<()> {
    host::namespace_paths(config)?;
    check_with(config, &runtime_namespace)?;
    host::bind_sources(config)?;
    host::net_devices(config)?;
    host::bridges(config)
}

/// Checks `config`, asking `is_runtimes(kind, path)` whether the namespace file at
/// `path` is the runtime's own namespace of that kind.
fn check_with(
    config: &Config,
    is_runtimes: &dyn Fn(NamespaceKind, &Path) -> Result<bool>,
) -> Result<()> {
    ids::check(config)?;
    filesystem::check(config)?;
    resources::check_cgroup(&config.cgroup)?;
    hooks::check(&config.hooks)?;
    if let Some(profile) = &config.seccomp {
        seccomp::check(profile)?;
    }
    if let Some(p) = config.personality {
        p.check()
            .map_err(|e| ConfigError::new("linux.personality", e))?;
    }
    if let Some(p) = &config.memory_policy {
        p.check()
            .map_err(|e| ConfigError::new("linux.memoryPolicy", e))?;
    }
    scopes(config, is_runtimes)
}

/// The rules of namespace scope, the host's filesystem and idmapped mounts.
fn scopes(
    config: &Config,
    is_runtimes: &dyn Fn(NamespaceKind, &Path) -> Result<bool>,
) -> Result<()> {
    let owns = |kind: NamespaceKind| -> Result<bool> {
        match config.namespace(kind) {
            None => Ok(false),
            Some(ns) => match &ns.path {
                None => Ok(true),
                Some(path) => Ok(!is_runtimes(kind, path)?),
            },
        }
    };
    let needs = |field: String, kind: NamespaceKind| -> Result<()> {
        if owns(kind)? {
            return Ok(());
        }
        let why = match config.namespace(kind) {
            Some(_) => format!(
                "the {} namespace joined by path is the runtime's own (the host's)",
                kind.oci_name()
            ),
            None => format!(
                "needs a {} namespace of the container's own",
                kind.oci_name()
            ),
        };
        Err(ConfigError::new(field, why))
    };
    if config.hostname.is_some() {
        needs("hostname".into(), NamespaceKind::Uts)?;
    }
    if config.domainname.is_some() {
        needs("domainname".into(), NamespaceKind::Uts)?;
    }
    for (key, value) in &config.sysctl {
        needs(format!("linux.sysctl.{key}"), sysctl_namespace(key)?)?;
        let field = match key.as_str() {
            "kernel.hostname" => config.hostname.as_ref(),
            "kernel.domainname" => config.domainname.as_ref(),
            _ => None,
        };
        if field.is_some_and(|name| name != value) {
            return Err(ConfigError::new(
                format!("linux.sysctl.{key}"),
                "conflicts with the hostname or domainname field",
            ));
        }
    }
    if !config.net_devices.is_empty() {
        needs("linux.netDevices".into(), NamespaceKind::Network)?;
        net_device_names(config)?;
    }
    networks(config)?;
    match config.namespace(NamespaceKind::Mount) {
        None => host_filesystem(config)?,
        // Joining the runtime's own mount namespace would make every mount of the
        // container, and its pivot_root, the host's.
        Some(_) if !owns(NamespaceKind::Mount)? => {
            return Err(ConfigError::new(
                "linux.namespaces",
                "the mount namespace joined by path is the runtime's own (the host's): \
                 leave it out to share the host's filesystem as it is",
            ))
        }
        Some(_) => {}
    }
    for (i, m) in config.mounts.iter().enumerate() {
        if let Some(idmap) = &m.idmap {
            idmapped_mount(config, i, m, idmap)?;
        }
    }
    Ok(())
}

/// The rules for `mounts[i]`, idmapped as `idmap` says.
fn idmapped_mount(config: &Config, i: usize, m: &Mount, idmap: &MountIdmap) -> Result<()> {
    let field = |f: &str| format!("mounts[{i}].{f}");
    let own = !idmap.uses_containers();
    let about = field(if own { "uidMappings" } else { "options" });
    match (idmap.uid_mappings.is_empty(), idmap.gid_mappings.is_empty()) {
        (false, true) => {
            return Err(ConfigError::new(
                field("gidMappings"),
                "is required with uidMappings",
            ))
        }
        (true, false) => {
            return Err(ConfigError::new(
                field("uidMappings"),
                "is required with gidMappings",
            ))
        }
        _ => {}
    }
    // A cgroup mount is hull's own making, whatever its options say.
    if !m.options.is_bind() || matches!(m.fstype.as_str(), "cgroup" | "cgroup2") {
        return Err(ConfigError::new(
            about,
            "only bind mounts can be idmapped (as in runc)",
        ));
    }
    if !own {
        let has_maps = !config.uid_mappings.is_empty() && !config.gid_mappings.is_empty();
        let joins = config
            .namespace(NamespaceKind::User)
            .is_some_and(|ns| ns.path.is_some());
        if has_maps || joins {
            return Ok(());
        }
        return Err(ConfigError::new(
            about,
            "idmap without uidMappings and gidMappings on the mount takes the container's \
             user namespace mappings, and the container has no user namespace",
        ));
    }
    for (name, maps) in [
        ("uidMappings", &idmap.uid_mappings),
        ("gidMappings", &idmap.gid_mappings),
    ] {
        idmap::check(maps).map_err(|(at, why)| ConfigError::new(field(name) + &at, why))?;
    }
    Ok(())
}

/// The seed's networks and routes: each by its own rules, in a network namespace of the
/// container's own (one it joins is not hull's to set up), one loopback, and no two
/// devices of one name in the container.
fn networks(config: &Config) -> Result<()> {
    use super::network::{check_route, check_veth, Network};
    if config.networks.is_empty() && config.routes.is_empty() {
        return Ok(());
    }
    let own = config
        .namespace(NamespaceKind::Network)
        .is_some_and(|ns| ns.path.is_none());
    if !own {
        let field = if config.networks.is_empty() {
            "routes"
        } else {
            "networks"
        };
        return Err(ConfigError::new(
            field,
            "needs a network namespace of the container's own (not joined by path)",
        ));
    }
    // lo is always there; a `%d` template's name is known only once it is moved in.
    let mut names: Vec<&str> = vec!["lo"];
    names.extend(config.net_devices.values().map(String::as_str));
    let templated = names.iter().any(|n| n.contains("%d"));
    let mut host_names: Vec<&str> = Vec::new();
    // The default routes of each family (IPv4, IPv6): one each at most.
    let mut defaults = [0usize; 2];
    for (i, network) in config.networks.iter().enumerate() {
        let veth = match network {
            Network::Loopback if config.networks[..i].contains(network) => {
                return Err(ConfigError::new(
                    format!("networks[{i}]"),
                    "a second loopback",
                ))
            }
            Network::Loopback => continue,
            Network::Veth(veth) => veth,
        };
        let field = |f: &str| format!("networks[{i}].{f}");
        check_veth(veth).map_err(|(f, why)| ConfigError::new(field(f), why))?;
        if names.contains(&veth.name.as_str()) {
            return Err(ConfigError::new(
                field("name"),
                format!("a second device {} in the container", veth.name),
            ));
        }
        if host_names.contains(&veth.host_name.as_str()) {
            return Err(ConfigError::new(
                field("hostName"),
                format!("a second host end {}", veth.host_name),
            ));
        }
        names.push(&veth.name);
        host_names.push(&veth.host_name);
        defaults[0] += usize::from(veth.gateway.is_some());
        defaults[1] += usize::from(veth.ipv6_gateway.is_some());
    }
    for (i, route) in config.routes.iter().enumerate() {
        check_route(route)
            .map_err(|(field, why)| ConfigError::new(format!("routes[{i}].{field}"), why))?;
        if let Some(name) = route.interface.as_deref() {
            if !templated && !names.contains(&name) {
                return Err(ConfigError::new(
                    format!("routes[{i}].interface"),
                    format!("no network of the container is named {name}"),
                ));
            }
        }
        if route.destination.prefix == 0 {
            defaults[usize::from(route.destination.addr.is_ipv6())] += 1;
        }
    }
    if let Some(family) = defaults.iter().position(|&n| n > 1) {
        return Err(ConfigError::new(
            "routes",
            format!(
                "more than one default {} route (a veth's gateway is one)",
                ["IPv4", "IPv6"][family]
            ),
        ));
    }
    Ok(())
}

/// Valid device names, on the host and in the container, and no two devices under the
/// same name in the container (a `%d` template numbers each one anew).
fn net_device_names(config: &Config) -> Result<()> {
    let mut inside: BTreeMap<&str, &str> = BTreeMap::new();
    for (host, name) in &config.net_devices {
        let field = format!("linux.netDevices.{host}");
        if let Some(why) = crate::netdev::invalid_name(host, false) {
            return Err(ConfigError::new(
                field,
                format!("invalid device name {host:?}: {why}"),
            ));
        }
        if let Some(why) = crate::netdev::invalid_name(name, true) {
            return Err(ConfigError::new(
                format!("{field}.name"),
                format!("invalid device name {name:?}: {why}"),
            ));
        }
        if name.contains("%d") {
            continue;
        }
        if let Some(other) = inside.insert(name, host) {
            return Err(ConfigError::new(
                format!("{field}.name"),
                format!("{name:?} is also the container's name for device {other}"),
            ));
        }
    }
    Ok(())
}

/// Without a mount namespace: everything that would change the host's mounts or files.
fn host_filesystem(config: &Config) -> Result<()> {
    let refuse = |field: &str, what: &str| {
        Err(ConfigError::new(
            field,
            format!("without a mount namespace {what} on the host itself"),
        ))
    };
    if config.rootfs != Path::new("/") {
        return refuse(
            "root.path",
            "the container can only run in the host's own / (a chroot is no isolation): \
             it would chroot",
        );
    }
    if !config.mounts.is_empty() {
        return refuse("mounts", "they would be mounted");
    }
    if !config.masked_paths.is_empty() {
        return refuse("linux.maskedPaths", "they would be masked");
    }
    if !config.readonly_paths.is_empty() {
        return refuse("linux.readonlyPaths", "they would be made read-only");
    }
    if config.readonly_rootfs {
        return refuse("root.readonly", "/ would be made read-only");
    }
    if !config.devices.is_empty() {
        return refuse("linux.devices", "they would be made");
    }
    if config.root_propagation.is_some() {
        return refuse("linux.rootfsPropagation", "it would be changed");
    }
    Ok(())
}

/// The namespace that scopes a sysctl a container may set (as runc allows them);
/// anything else is the whole host's.
fn sysctl_namespace(key: &str) -> Result<NamespaceKind> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let field = format!("linux.sysctl.{key}");
    if key.contains("..") || key.contains('/') {
        return Err(ConfigError::new(field, "invalid sysctl name"));
    }
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Ok(NamespaceKind::Ipc)
    } else if key.starts_with("net.") {
        Ok(NamespaceKind::Network)
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Ok(NamespaceKind::Uts)
    } else {
        Err(ConfigError::new(
            field,
            "not a namespaced sysctl: a container may not change it",
        ))
    }
}

/// Whether the namespace file at `path` is the calling process's own of `kind`
/// (the same namespace: same device and inode as `/proc/self/ns/<kind>`).
fn runtime_namespace(kind: NamespaceKind, path: &Path) -> Result<bool> {
    let id = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| (m.dev(), m.ino()))
            .map_err(|e| {
                ConfigError::new(
                    "linux.namespaces",
                    format!("{} namespace {}: {e}", kind.oci_name(), p.display()),
                )
            })
    };
    // The calling thread's: a library caller's thread may have entered others
    // (setns), and the fork that makes the container copies this thread.
    let own = Path::new("/proc/thread-self/ns").join(kind.proc_name());
    Ok(id(path)? == id(&own)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{IdMap, Namespace};
    use std::path::PathBuf;

    fn with(kinds: &[(NamespaceKind, Option<&str>)]) -> Config {
        Config {
            rootfs: PathBuf::from("/bundle/rootfs"),
            namespaces: kinds
                .iter()
                .map(|(kind, path)| Namespace {
                    kind: *kind,
                    path: path.map(PathBuf::from),
                })
                .collect(),
            ..Config::default()
        }
    }

    /// "/host/*" paths stand for the runtime's own namespaces.
    fn check(config: &Config) -> Result<()> {
        check_with(config, &|_, path| Ok(path.starts_with("/host")))
    }

    fn field(r: Result<()>) -> String {
        r.expect_err("refused").field
    }

    #[test]
    fn namespaced_settings_need_the_containers_own_namespace() {
        use NamespaceKind::*;
        let mut c = with(&[(Mount, None), (Network, Some("/host/net")), (Uts, None)]);
        c.hostname = Some("x".into());
        assert!(check(&c).is_ok());
        c.sysctl.insert("net.ipv4.ip_forward".into(), "1".into());
        assert_eq!(field(check(&c)), "linux.sysctl.net.ipv4.ip_forward");
        c.namespaces[1].path = Some("/run/netns/mine".into());
        assert!(check(&c).is_ok());
        c.namespaces[2].path = Some("/host/uts".into());
        assert_eq!(field(check(&c)), "hostname");
        c.namespaces.remove(2);
        c.hostname = None;
        c.domainname = Some("d".into());
        assert_eq!(field(check(&c)), "domainname");
        c.domainname = None;
        c.sysctl.insert("kernel.shmmax".into(), "1".into());
        assert_eq!(field(check(&c)), "linux.sysctl.kernel.shmmax");
    }

    #[test]
    fn the_hostname_sysctl_must_agree_with_the_field() {
        use NamespaceKind::*;
        let mut c = with(&[(Mount, None), (Uts, None)]);
        c.sysctl.insert("kernel.hostname".into(), "a".into());
        assert!(check(&c).is_ok());
        c.hostname = Some("a".into());
        assert!(check(&c).is_ok());
        c.hostname = Some("b".into());
        assert_eq!(field(check(&c)), "linux.sysctl.kernel.hostname");
    }

    #[test]
    fn networks_are_checked_together() {
        use crate::config::network::{Network, Route, Veth};
        use NamespaceKind::*;
        let mut c = with(&[(Mount, None), (Network, None)]);
        let veth = |host: &str, name: &str, gateway: Option<&str>| {
            Network::Veth(Veth {
                bridge: "br0".into(),
                host_name: host.into(),
                name: name.into(),
                address: Some("10.0.0.2/24".parse().unwrap()),
                gateway: gateway.map(|g| g.parse().unwrap()),
                ..Veth::default()
            })
        };
        c.networks = vec![Network::Loopback, veth("h0", "eth0", Some("10.0.0.1"))];
        c.routes = vec![Route {
            destination: "127.1.0.0/16".parse().unwrap(),
            source: None,
            gateway: None,
            interface: Some("lo".into()),
        }];
        assert!(check(&c).is_ok(), "{:?}", check(&c));
        c.networks.push(veth("h0", "eth1", None));
        assert_eq!(field(check(&c)), "networks[2].hostName");
        c.networks[2] = veth("h1", "eth0", None);
        assert_eq!(field(check(&c)), "networks[2].name");
        c.networks[2] = Network::Loopback;
        assert_eq!(field(check(&c)), "networks[2]");
        c.networks[2] = veth("h1", "eth1", None);
        c.routes.push(Route {
            destination: "0.0.0.0/0".parse().unwrap(),
            source: None,
            gateway: Some("10.0.0.254".parse().unwrap()),
            interface: None,
        });
        assert_eq!(
            field(check(&c)),
            "routes",
            "the veth's gateway is a default route"
        );
        c.routes[1].destination = "10.9.0.0/16".parse().unwrap();
        c.routes[1].interface = Some("eth9".into());
        assert_eq!(field(check(&c)), "routes[1].interface");
    }

    #[test]
    fn net_devices_need_a_network_namespace_of_their_own_and_good_names() {
        use NamespaceKind::*;
        let mut c = with(&[(Mount, None)]);
        c.net_devices.insert("dummy0".into(), "eth0".into());
        assert_eq!(field(check(&c)), "linux.netDevices");
        c.namespaces.push(Namespace {
            kind: Network,
            path: Some("/host/net".into()),
        });
        assert_eq!(field(check(&c)), "linux.netDevices");
        c.namespaces[1].path = Some("/run/netns/pod".into());
        assert!(check(&c).is_ok());
        c.namespaces[1].path = None;
        assert!(check(&c).is_ok());

        c.net_devices.insert("dummy1".into(), "eth0".into());
        assert_eq!(field(check(&c)), "linux.netDevices.dummy1.name");
        c.net_devices.insert("dummy1".into(), "dummy0".into());
        c.net_devices.insert("dummy0".into(), "dummy1".into());
        assert!(check(&c).is_ok(), "a swap of names is no collision");
        c.net_devices.insert("eth0".into(), "eth%d".into());
        c.net_devices.insert("eth1".into(), "eth%d".into());
        assert!(check(&c).is_ok(), "a template numbers each device anew");
        c.net_devices.insert("eth1".into(), "a/b".into());
        assert_eq!(field(check(&c)), "linux.netDevices.eth1.name");
        c.net_devices.remove("eth1");
        c.net_devices.insert("bad name".into(), "x".into());
        assert_eq!(field(check(&c)), "linux.netDevices.bad name");
    }

    #[test]
    fn personality_and_memory_policy_are_what_their_syscalls_take() {
        use crate::config::scheduling::{BitSet, MemoryPolicy, Personality, MPOL_BIND};
        let mut c = with(&[(NamespaceKind::Mount, None)]);
        c.personality = Some(Personality(0x42));
        assert_eq!(field(check(&c)), "linux.personality");
        c.personality = None;
        c.memory_policy = Some(MemoryPolicy {
            mode: MPOL_BIND,
            nodes: BitSet::default(),
        });
        assert_eq!(field(check(&c)), "linux.memoryPolicy");
    }

    #[test]
    fn the_runtimes_own_mount_namespace_is_refused() {
        let mut c = with(&[(NamespaceKind::Mount, Some("/host/mnt"))]);
        assert_eq!(field(check(&c)), "linux.namespaces");
        c.namespaces[0].path = Some("/run/other/mnt".into());
        assert!(check(&c).is_ok());
    }

    #[test]
    fn only_namespaced_sysctls() {
        for key in [
            "kernel.core_pattern",
            "vm.overcommit_memory",
            "net/../../x",
            "net..x",
        ] {
            let mut c = with(&[(NamespaceKind::Mount, None), (NamespaceKind::Network, None)]);
            c.sysctl.insert(key.into(), "1".into());
            assert_eq!(field(check(&c)), format!("linux.sysctl.{key}"));
        }
    }

    #[test]
    fn without_a_mount_namespace_nothing_pretends() {
        let host = || Config {
            rootfs: PathBuf::from("/"),
            ..Config::default()
        };
        assert!(check(&host()).is_ok());
        assert_eq!(field(check(&with(&[]))), "root.path");
        type Change = fn(&mut Config);
        let cases: [(&str, Change); 6] = [
            ("mounts", |c| c.mounts.push(tmpfs())),
            ("linux.maskedPaths", |c| c.masked_paths.push("/x".into())),
            ("linux.readonlyPaths", |c| {
                c.readonly_paths.push("/x".into())
            }),
            ("root.readonly", |c| c.readonly_rootfs = true),
            ("linux.rootfsPropagation", |c| {
                c.root_propagation = Some(libc::MS_PRIVATE)
            }),
            ("linux.devices", |c| {
                c.devices.push(crate::config::Device {
                    path: "/dev/x".into(),
                    kind: libc::S_IFCHR,
                    major: 1,
                    minor: 3,
                    mode: 0o666,
                    uid: 0,
                    gid: 0,
                })
            }),
        ];
        for (name, change) in cases {
            let mut c = host();
            change(&mut c);
            assert_eq!(field(check(&c)), name);
            // With a mount namespace, all of it is the container's own business.
            c.namespaces.push(Namespace {
                kind: NamespaceKind::Mount,
                path: None,
            });
            assert!(check(&c).is_ok(), "{name}");
        }
    }

    fn tmpfs() -> Mount {
        Mount {
            source: Some("tmpfs".into()),
            destination: "/tmp".into(),
            fstype: "tmpfs".into(),
            ..Mount::default()
        }
    }

    fn idmapped(options: &[&str], uids: &[IdMap], gids: &[IdMap]) -> Mount {
        let raw: Vec<String> = options.iter().map(|o| o.to_string()).collect();
        let options = crate::config::mount_options::parse(&raw).unwrap();
        Mount {
            source: Some("/src".into()),
            destination: "/dst".into(),
            fstype: "bind".into(),
            idmap: Some(MountIdmap {
                uid_mappings: uids.to_vec(),
                gid_mappings: gids.to_vec(),
                recursive: options.idmap == Some(true),
            }),
            options,
        }
    }

    const MAP: IdMap = IdMap {
        container_id: 0,
        host_id: 1234,
        size: 1000,
    };

    #[test]
    fn idmapped_mounts() {
        let mut c = with(&[(NamespaceKind::Mount, None)]);
        // Own mappings: fine without a user namespace.
        c.mounts = vec![tmpfs(), idmapped(&["bind"], &[MAP], &[MAP])];
        assert!(check(&c).is_ok());
        // Only binds.
        c.mounts[1] = idmapped(&[], &[MAP], &[MAP]);
        c.mounts[1].fstype = "tmpfs".into();
        assert_eq!(field(check(&c)), "mounts[1].uidMappings");
        c.mounts[1] = idmapped(&["rbind"], &[MAP], &[MAP]);
        c.mounts[1].fstype = "cgroup".into();
        assert_eq!(field(check(&c)), "mounts[1].uidMappings");
        // Both kinds, each valid.
        c.mounts[1] = idmapped(&["rbind", "ridmap"], &[MAP], &[]);
        assert_eq!(field(check(&c)), "mounts[1].gidMappings");
        c.mounts[1] = idmapped(&["rbind"], &[], &[MAP]);
        assert_eq!(field(check(&c)), "mounts[1].uidMappings");
        let overlapping = [
            MAP,
            IdMap {
                host_id: 2000,
                ..MAP
            },
        ];
        c.mounts[1] = idmapped(&["rbind"], &[MAP], &overlapping);
        let e = check(&c).unwrap_err();
        assert_eq!(e.field, "mounts[1].gidMappings[1]");
        assert_eq!(e.message, "overlaps [0] in containerID");
        // idmap alone takes the container's user namespace: there must be one.
        c.mounts[1] = idmapped(&["bind", "idmap"], &[], &[]);
        let e = check(&c).unwrap_err();
        assert_eq!(e.field, "mounts[1].options");
        assert!(e.message.contains("no user namespace"), "{e}");
        c.namespaces.push(Namespace {
            kind: NamespaceKind::User,
            path: None,
        });
        c.uid_mappings = vec![MAP];
        c.gid_mappings = vec![MAP];
        assert!(check(&c).is_ok());
        c.namespaces[1].path = Some("/run/userns/x".into());
        c.uid_mappings.clear();
        c.gid_mappings.clear();
        assert!(check(&c).is_ok());
    }
}
