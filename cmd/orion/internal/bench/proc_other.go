//go:build !linux

package bench

import "syscall"

// childAttr puts a child in its own process group, so that a Ctrl-C in the
// terminal reaches only the bench, which then stops its children in order.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
