//go:build unix

package interop

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the script in a new process group, so killGroup also
// reaches the processes it starts.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		// The group id is the script's pid; ESRCH once everything is gone.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
