package state

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// smallFS mounts a tmpfs of size on a temporary directory, or skips the
// test where the process may not mount (not root, or no CAP_SYS_ADMIN).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// A full disk or a read-only file system: the store says so (ErrUnavailable,
// one health report) instead of forgetting, and works again once there is
// room.
func TestFileFullDiskAndReadOnlyFailClosed(t *testing.T) {
	ctx := context.Background()
	mnt := smallFS(t, "512k")
	var reports []error
	s := NewFile(filepath.Join(mnt, "bys-mcp"), FileOptions{OnHealth: func(err error) { reports = append(reports, err) }})
	claim, err := s.ClaimPlacement(ctx, "fp-before", time.Minute)
	if err != nil || !claim.Claimed {
		t.Fatalf("claim on an empty disk: %+v %v", claim, err)
	}
	if err := s.FinishPlacement(ctx, "fp-before", claim.LeaseID, "call-1", time.Hour); err != nil {
		t.Fatal(err)
	}

	// Fill the disk.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	full := 0
	for i := 0; i < 50; i++ { // enough writes that the database must grow
		fp := "fp-full-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		c, err := s.ClaimPlacement(ctx, fp, time.Minute)
		if err == nil {
			err = s.FinishPlacement(ctx, fp, c.LeaseID, "call-"+fp+string(make([]byte, 2000)), time.Hour)
		}
		if err != nil {
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("write on a full disk: %v, want ErrUnavailable", err)
			}
			full++
			break
		}
	}
	if full == 0 {
		t.Fatal("50 writes on a full disk all succeeded")
	}
	if len(reports) == 0 || reports[len(reports)-1] == nil {
		t.Errorf("health reports %v: want a failure reported", reports)
	}
	// Room again: it works, and nothing written before was forgotten.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping after freeing the disk: %v", err)
	}
	again, err := s.ClaimPlacement(ctx, "fp-before", time.Minute)
	if err != nil || again.ExistingCallID != "call-1" {
		t.Fatalf("the entry written before the disk filled: %+v %v", again, err)
	}

	// Read-only file system.
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	defer exec.Command("mount", "-o", "remount,rw", mnt).Run()
	if _, _, _, err := s.ReserveBudget(ctx, "budget:x", 5, time.Hour); !errors.Is(err, ErrUnavailable) {
		t.Errorf("budget on a read-only file system: %v, want ErrUnavailable", err)
	}
	if _, err := s.ClaimPlacement(ctx, "fp-ro", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("claim on a read-only file system: %v, want ErrUnavailable", err)
	}
}
