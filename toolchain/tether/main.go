// tether runs a command that cannot outlive the process that started it (its
// owner), whatever kills the owner. Node.js cannot call prctl(2), so the
// platform starts its children through tether (processes/README.md):
//
//		tether [--parent PID] [--signal SIG] [--grace DURATION] -- command [args...]
//
//	  - Owner death: the kernel sends tether SIGTERM when the owner dies
//	    (PR_SET_PDEATHSIG), and tether checks right after asking that the owner
//	    (--parent, default the parent it started with) is still its parent, so an
//	    owner that died while tether started counts too. The command then gets
//	    --signal (default TERM); whatever is left of its tree after --grace
//	    (default 10s) gets SIGKILL.
//	  - Subreaper (PR_SET_CHILD_SUBREAPER): a process whose parent dies anywhere
//	    below tether is re-parented to tether, even from a process group or session
//	    of its own (the Pulumi engine starts every plugin in its own group). When
//	    the command exits, tether kills what is left of its tree and exits with the
//	    command's status (or dies of the same signal).
//	  - The command runs in a process group of its own, with --signal as its own
//	    parent-death signal in case tether itself is killed.
//	  - SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are passed
//	    on to the command; so are open file descriptors above 2 (Node's IPC channel).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	prSetPdeathsig      = 1
	prSetChildSubreaper = 36
)

func init() {
	// The parent-death signal belongs to the thread that sets it, and a child's
	// fires when the thread that forked it exits: both happen on the main thread,
	// which lives as long as the process.
	runtime.LockOSThread()
}

var forwarded = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
}

var signalNames = map[string]syscall.Signal{
	"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT,
	"KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
}

type options struct {
	parent int
	signal syscall.Signal
	grace  time.Duration
	argv   []string
}

func main() {
	opts, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "tether: %v\nusage: tether [--parent PID] [--signal SIG] [--grace DURATION] -- command [args...]\n", err)
		os.Exit(2)
	}
	os.Exit(run(opts))
}

func parseArgs(args []string) (options, error) {
	fs := flag.NewFlagSet("tether", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	parent := fs.Int("parent", 0, "pid of the owner (default: the parent tether starts with)")
	sig := fs.String("signal", "TERM", "what the command gets when the owner dies")
	grace := fs.Duration("grace", 10*time.Second, "how long the command has to exit before its tree is killed")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	signal, ok := signalNames[strings.TrimPrefix(strings.ToUpper(*sig), "SIG")]
	if !ok {
		return options{}, fmt.Errorf("unknown signal %q", *sig)
	}
	if fs.NArg() == 0 {
		return options{}, errors.New("no command")
	}
	return options{parent: *parent, signal: signal, grace: *grace, argv: fs.Args()}, nil
}

func prctl(option, arg uintptr) error {
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, option, arg, 0, 0, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

func run(opts options) int {
	inherited := inheritedFds()
	if err := prctl(prSetPdeathsig, uintptr(syscall.SIGTERM)); err != nil {
		fmt.Fprintf(os.Stderr, "tether: PR_SET_PDEATHSIG: %v\n", err)
		return 1
	}
	owner := opts.parent
	if owner == 0 {
		owner = os.Getppid()
	}
	if os.Getppid() != owner {
		fmt.Fprintf(os.Stderr, "tether: owner %d is gone; not starting %s\n", owner, opts.argv[0])
		return 1
	}
	if err := prctl(prSetChildSubreaper, 1); err != nil {
		fmt.Fprintf(os.Stderr, "tether: PR_SET_CHILD_SUBREAPER: %v\n", err)
		return 1
	}
	signals := make(chan os.Signal, 32)
	signal.Notify(signals, append([]os.Signal{syscall.SIGCHLD}, forwarded...)...)

	path, err := exec.LookPath(opts.argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "tether: %v\n", err)
		return 127
	}
	files := []uintptr{0, 1, 2}
	for _, fd := range inherited {
		for len(files) < fd {
			files = append(files, ^uintptr(0)) // a gap: closed in the command
		}
		files = append(files, uintptr(fd))
	}
	child, err := syscall.ForkExec(path, opts.argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: files,
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: opts.signal},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "tether: starting %s: %v\n", path, err)
		return 126
	}
	// The command holds them now; a copy here would keep, say, an IPC channel open after it exits.
	for _, fd := range inherited {
		_ = syscall.Close(fd)
	}

	t := &tree{child: child}
	ticker := time.NewTicker(time.Second)
	var graceOver <-chan time.Time
	ownerGone := false
	onOwnerGone := func() {
		if ownerGone {
			return
		}
		ownerGone = true
		_ = syscall.Kill(child, opts.signal)
		graceOver = time.After(opts.grace)
	}
	for {
		select {
		case s := <-signals:
			switch s {
			case syscall.SIGCHLD:
			case syscall.SIGTERM:
				// The parent-death signal arrives after the kernel re-parented tether.
				if os.Getppid() != owner {
					onOwnerGone()
				} else {
					_ = syscall.Kill(child, syscall.SIGTERM)
				}
			default:
				_ = syscall.Kill(child, s.(syscall.Signal))
			}
		case <-ticker.C:
			if os.Getppid() != owner {
				onOwnerGone()
			}
		case <-graceOver:
			t.kill()
		}
		if t.reap() {
			t.kill()
			return t.exit()
		}
	}
}

// inheritedFds lists the open descriptors above stderr that tether was started with.
func inheritedFds() []int {
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil
	}
	names, _ := dir.Readdirnames(-1)
	_ = dir.Close()
	var fds []int
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd < 3 {
			continue
		}
		// Skips the directory's own descriptor (closed by now) and the Go runtime's
		// (close-on-exec, like every descriptor not meant for a child).
		flags, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if errno == 0 && flags&syscall.FD_CLOEXEC == 0 {
			fds = append(fds, fd)
		}
	}
	for i := 1; i < len(fds); i++ { // few entries: insertion sort
		for j := i; j > 0 && fds[j] < fds[j-1]; j-- {
			fds[j], fds[j-1] = fds[j-1], fds[j]
		}
	}
	return fds
}

// tree is the command and everything below tether.
type tree struct {
	child  int
	status syscall.WaitStatus
	done   bool
}

// reap collects every exited child (orphans re-parented to tether included) and
// reports whether the command itself has exited.
func (t *tree) reap() bool {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 {
			return t.done
		}
		if pid == t.child {
			t.status, t.done = ws, true
		}
	}
}

// kill sends SIGKILL to every process below tether until none is left: a killed
// process's children are re-parented to tether and show up on the next pass.
func (t *tree) kill() {
	self := os.Getpid()
	for pass := 0; pass < 200; pass++ {
		below := descendants(self)
		if len(below) == 0 {
			return
		}
		for _, pid := range below {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
		t.reap()
	}
}

// exit ends tether the way the command ended: the same exit code, or death by the same signal.
func (t *tree) exit() int {
	if t.status.Signaled() {
		sig := t.status.Signal()
		signal.Reset(sig)
		_ = syscall.Kill(os.Getpid(), sig)
		time.Sleep(100 * time.Millisecond) // a signal whose default is to be ignored ends up here
		return 128 + int(sig)
	}
	return t.status.ExitStatus()
}

// descendants lists the processes below root, from /proc.
func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, c := range children[next] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}
