//go:build !unix

package interop

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// killGroup kills the script only: process groups are a Unix notion.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
