//! What the calling process sets on itself before it execs: `prctl` switches, resource
//! limits, domain name, signal dispositions, execution domain, scheduling, I/O
//! priority and NUMA memory policy.

use std::io;

use super::check;

/// The `prctl` options [`prctl`] passes on: those that take integers only. Others take
/// pointers the kernel would write through (`PR_GET_PDEATHSIG`, say).
const INTEGER_OPTIONS: [libc::c_int; 7] = [
    libc::PR_SET_DUMPABLE,
    libc::PR_CAPBSET_READ,
    libc::PR_CAPBSET_DROP,
    libc::PR_SET_KEEPCAPS,
    libc::PR_SET_NO_NEW_PRIVS,
    libc::PR_CAP_AMBIENT,
    libc::PR_SET_CHILD_SUBREAPER,
];

/// `prctl(2)` with integer arguments; an option not known to take only integers is
/// refused (EINVAL).
pub fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> io::Result<()> {
    if !INTEGER_OPTIONS.contains(&option) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: the options above take integer arguments only.
    let ret = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    check(ret as libc::c_long).map(drop)
}

/// `setrlimit(2)` of resource number `resource` (`RLIMIT_*`).
pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: a pointer to a live rlimit for the call.
    check(unsafe { libc::setrlimit(resource as _, &limit) } as libc::c_long).map(drop)
}

/// `setdomainname(2)`: the NIS domain name of our UTS namespace.
pub fn setdomainname(name: &str) -> io::Result<()> {
    // SAFETY: pointer and length of a string alive for the call.
    check(unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) } as libc::c_long)
        .map(drop)
}

/// Gives signal `sig` its default disposition (`SIG_DFL`).
pub fn default_signal_action(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: the default action runs none of our code: no handler to be sound.
    if unsafe { libc::signal(sig, libc::SIG_DFL) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets our execution domain (`personality(2)`); it takes effect for what we exec.
pub fn personality(persona: u64) -> io::Result<()> {
    // SAFETY: personality takes an integer and changes only our own execution domain.
    let ret = unsafe { libc::personality(persona as libc::c_ulong) };
    check(ret as libc::c_long).map(drop)
}

/// Sets our CPU scheduling policy and parameters (`sched_setattr(2)`).
pub fn sched_setattr(s: &crate::config::scheduling::Scheduler) -> io::Result<()> {
    // The kernel's `struct sched_attr` (SCHED_ATTR_SIZE_VER0: without the clamps).
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
    }
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: s.policy,
        flags: s.flags,
        nice: s.nice,
        priority: s.priority,
        runtime: s.runtime,
        deadline: s.deadline,
        period: s.period,
    };
    // SAFETY: a pointer to a live, fully initialized sched_attr whose size field says
    // how much of it the kernel may read; pid 0 is ourselves.
    check(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) })
        .map(drop)
}

/// Sets our I/O priority (`ioprio_set(2)` on ourselves).
pub fn ioprio_set(value: i32) -> io::Result<()> {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    // SAFETY: integer arguments only; pid 0 is ourselves.
    check(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) }).map(drop)
}

/// Sets our NUMA memory policy (`set_mempolicy(2)`); `nodes` is the node mask in words.
pub fn set_mempolicy(mode: i32, nodes: &[u64], bits: u32) -> io::Result<()> {
    let mask = if nodes.is_empty() {
        std::ptr::null()
    } else {
        nodes.as_ptr()
    };
    // The kernel reads `maxnode - 1` bits: one more than the highest node we set.
    let maxnode = if nodes.is_empty() {
        0
    } else {
        bits as libc::c_ulong + 1
    };
    // SAFETY: `mask` is null or points at `nodes`, which holds at least `bits` bits
    // (len_bits never exceeds the words it counts).
    check(unsafe { libc::syscall(libc::SYS_set_mempolicy, mode, mask, maxnode) }).map(drop)
}

/// Drops this process's page mappings of the hull executable's read-only segments (its
/// code and constants; `madvise(MADV_DONTNEED)`): a process that only waits then holds
/// none of them, and what it runs again comes back from the page cache. Writable
/// segments, which may hold data, are never touched. Best effort: memory only.
pub fn drop_code_pages() {
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _: libc::size_t,
        _: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid info whose dlpi_phdr points to
        // dlpi_phnum program headers, alive during the call.
        let (base, headers) = unsafe {
            let info = &*info;
            (
                info.dlpi_addr as usize,
                std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize),
            )
        };
        let page = 4096;
        for h in headers {
            if h.p_type != libc::PT_LOAD || h.p_flags & libc::PF_W != 0 {
                continue;
            }
            let start = (base + h.p_vaddr as usize) & !(page - 1);
            let end = base + (h.p_vaddr + h.p_memsz) as usize;
            // SAFETY: a read-only segment of the executable, mapped from its file:
            // dropping its pages loses nothing, and each refaults from the file on use.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        }
        1 // The first object is the executable: stop there.
    }
    // SAFETY: `each` only reads what it is given, during the call.
    unsafe { libc::dl_iterate_phdr(Some(each), std::ptr::null_mut()) };
}
