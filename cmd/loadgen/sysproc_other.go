//go:build !linux

package main

import "syscall"

// sysProcAttr is nil off Linux: loadgen reads /proc and is meant for Linux.
func sysProcAttr() *syscall.SysProcAttr { return nil }
