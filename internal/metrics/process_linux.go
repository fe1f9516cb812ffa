package metrics

import "syscall"

// isRealProc reports whether path is the proc file system (PROC_SUPER_MAGIC),
// as procfs asks it.
func isRealProc(path string) (bool, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return false, err
	}
	return st.Type == 0x9fa0, nil
}
