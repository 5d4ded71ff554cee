package main

import "syscall"

// sysProcAttr puts the bot in its own process group, so a terminal's Ctrl-C
// reaches only loadgen, which then stops the bot in order; and kills the bot
// if loadgen itself dies without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
