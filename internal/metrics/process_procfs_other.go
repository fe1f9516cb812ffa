//go:build !windows && !js && !wasip1 && !darwin && !linux

package metrics

// isRealProc: the file system type is not asked here (procfs asks it on
// Linux and FreeBSD only).
func isRealProc(string) (bool, error) { return false, nil }
