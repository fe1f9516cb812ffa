package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestFileTouchesNothingUntilUsed(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "bys-mcp")
	f := NewFile(dir, FileOptions{})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("NewFile created %s (stat err %v)", dir, err)
	}
	if err := f.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("database mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, want 0700", st.Mode().Perm())
	}
}

func TestFileKeepsStateAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a := NewFile(dir, FileOptions{})
	c, err := a.ClaimPlacement(ctx, "fp", time.Minute)
	if err != nil || !c.Claimed {
		t.Fatalf("claim = %+v, %v", c, err)
	}
	if err := a.FinishPlacement(ctx, "fp", c.LeaseID, "call-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok, _, err := a.ReserveBudget(ctx, "k", 1, time.Hour); err != nil || !ok {
		t.Fatalf("reserve = %v, %v", ok, err)
	}
	if ok, _ := a.UseOnce(ctx, "tok", time.Hour); !ok {
		t.Fatal("UseOnce refused a new id")
	}
	secret, err := a.Secret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = a.Close()

	b := NewFile(dir, FileOptions{}) // "the restarted process"
	if c, err := b.ClaimPlacement(ctx, "fp", time.Minute); err != nil || c.ExistingCallID != "call-1" {
		t.Fatalf("after restart claim = %+v, %v; want the recorded call-1", c, err)
	}
	if _, ok, _, err := b.ReserveBudget(ctx, "k", 1, time.Hour); err != nil || ok {
		t.Fatalf("after restart the spent budget allowed another call (%v, %v)", ok, err)
	}
	if ok, _ := b.UseOnce(ctx, "tok", time.Hour); ok {
		t.Fatal("after restart a used id was accepted again")
	}
	if s2, err := b.Secret(ctx); err != nil || !bytes.Equal(s2, secret) {
		t.Fatalf("secret changed across restart (%v)", err)
	}
}

func TestFileTwoStoresOneDirectorySingleFlight(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stores := []*File{NewFile(dir, FileOptions{PollInterval: 10 * time.Millisecond}), NewFile(dir, FileOptions{PollInterval: 10 * time.Millisecond})}
	claimed, ids := claimFromMany(t, stores, 20, "fp", 20*time.Second)
	if claimed != 1 {
		t.Fatalf("%d claims over two stores on one file, want 1", claimed)
	}
	for i, id := range ids {
		if id != "call-x" {
			t.Fatalf("goroutine %d saw %q, want call-x", i, id)
		}
	}
}

// TestFileHelperProcess is the child of TestFileProcessesSingleFlight.
func TestFileHelperProcess(t *testing.T) {
	dir := os.Getenv("BYS_STATE_TEST_CHILD_DIR")
	if dir == "" {
		return // not a child: nothing to do
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := NewFile(dir, FileOptions{PollInterval: 10 * time.Millisecond})
	// Start together: wait for the go file.
	for {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c, err := s.ClaimPlacement(ctx, "fp", 30*time.Second)
	if err != nil {
		fmt.Println("RESULT error", err)
		return
	}
	if c.Claimed {
		time.Sleep(200 * time.Millisecond)
		id := fmt.Sprintf("call-%d", os.Getpid())
		if err := s.FinishPlacement(ctx, "fp", c.LeaseID, id, time.Minute); err != nil {
			fmt.Println("RESULT error", err)
			return
		}
		fmt.Println("RESULT claimed", id)
		return
	}
	fmt.Println("RESULT existing", c.ExistingCallID)
}

func TestFileProcessesSingleFlight(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 4
	outs := make([]bytes.Buffer, n)
	cmds := make([]*exec.Cmd, n)
	for i := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "BYS_STATE_TEST_CHILD_DIR="+dir)
		cmd.Stdout = &outs[i]
		cmd.Stderr = &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	time.Sleep(100 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	claimed, existing := "", map[string]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i].String())
		}
		line := ""
		for _, l := range strings.Split(outs[i].String(), "\n") {
			if strings.HasPrefix(l, "RESULT ") {
				line = l
			}
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("child %d printed %q", i, outs[i].String())
		}
		switch f[1] {
		case "claimed":
			if claimed != "" {
				t.Fatalf("two processes claimed: %s and %s", claimed, f[2])
			}
			claimed = f[2]
		case "existing":
			existing[f[2]]++
		default:
			t.Fatalf("child %d: %s", i, line)
		}
	}
	if claimed == "" || existing[claimed] != n-1 {
		t.Fatalf("claimed %q, others saw %v; want one claim seen by the %d others", claimed, existing, n-1)
	}
}

func TestFileFailsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(t *testing.T) string // returns the state directory
	}{
		{"corrupt database file", func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), bytes.Repeat([]byte("not a database "), 2000), 0o600); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"directory cannot be created", func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "plain-file")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(file, "bys-mcp")
		}},
		{"database path is a directory", func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, FileName), 0o700); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var reports []error
			var mu sync.Mutex
			s := NewFile(tc.setup(t), FileOptions{OnHealth: func(err error) {
				mu.Lock()
				reports = append(reports, err)
				mu.Unlock()
			}})
			for name, err := range allOps(ctx, s) {
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("%s: err = %v, want ErrUnavailable", name, err)
				}
			}
			if _, err := s.Secret(ctx); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Secret: err = %v, want ErrUnavailable", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reports) != 1 || reports[0] == nil {
				t.Fatalf("health reports = %v, want exactly one failure", reports)
			}
			if msg := reports[0].Error(); !strings.Contains(msg, FileName) && !strings.Contains(msg, "bys-mcp") {
				t.Errorf("report %q does not name the file", msg)
			}
		})
	}
}

func TestFileRecoversAndReportsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	var reports []error
	s := NewFile(dir, FileOptions{OnHealth: func(err error) { reports = append(reports, err) }})
	for range 3 {
		if err := s.Ping(ctx); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("ping on garbage = %v", err)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("ping after repair = %v", err)
		}
	}
	if len(reports) != 2 || reports[0] == nil || reports[1] != nil {
		t.Fatalf("reports = %v, want one failure then one recovery", reports)
	}
}

func TestFileLockedTooLongFailsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := NewFile(dir, FileOptions{LockTimeout: 200 * time.Millisecond})
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	holder, err := bolt.Open(s.Path(), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.ClaimPlacement(ctx, "fp", time.Minute)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("claim while locked = %v, want ErrUnavailable saying locked", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("gave up after %v", el)
	}
	_ = holder.Close()
	if c, err := s.ClaimPlacement(ctx, "fp", time.Minute); err != nil || !c.Claimed {
		t.Fatalf("claim after unlock = %+v, %v", c, err)
	}
}

func TestFileSweepsExpiredEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewFile(t.TempDir(), FileOptions{})
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	for i := range 50 {
		c, err := s.ClaimPlacement(ctx, fmt.Sprintf("fp%d", i), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_ = s.FinishPlacement(ctx, fmt.Sprintf("fp%d", i), c.LeaseID, "call", time.Minute)
		_, _ = s.UseOnce(ctx, fmt.Sprintf("id%d", i), time.Minute)
		_, _, _, _ = s.ReserveBudget(ctx, fmt.Sprintf("k%d", i), 5, time.Minute)
	}
	now = now.Add(2 * sweepEvery)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(s.Path(), 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDedupe, bucketBudget, bucketOnce} {
			if n := tx.Bucket(b).Stats().KeyN; n != 0 {
				t.Errorf("bucket %s holds %d entries after they all expired", b, n)
			}
		}
		return nil
	})
}

// BenchmarkStoreClaimFinish measures one dedupe claim plus its finish, the
// store's cost of one placed call, on each embedded backend.
func BenchmarkStoreClaimFinish(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		s    Store
	}{
		{"memory", NewMemory()},
		{"file", NewFile(b.TempDir(), FileOptions{})},
		{"file-nosync", NewFile(b.TempDir(), FileOptions{NoSync: true})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				fp := fmt.Sprintf("fp%d", i)
				c, err := bc.s.ClaimPlacement(ctx, fp, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				if err := bc.s.FinishPlacement(ctx, fp, c.LeaseID, "call", time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
