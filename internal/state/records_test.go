package state

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRecordsMemory(t *testing.T) {
	t.Parallel()
	runRecordsContract(t, memoryFactory)
}

func TestRecordsFile(t *testing.T) {
	t.Parallel()
	runRecordsContract(t, fileFactory)
}

func TestRecordsRedis(t *testing.T) {
	t.Parallel()
	runRecordsContract(t, redisFactory(t))
}

func runRecordsContract(t *testing.T, newStore factory) {
	ctx := context.Background()
	tests := []struct {
		name string
		fn   func(t *testing.T, r Records)
	}{
		{"PutGetOverwrite", func(t *testing.T, r Records) {
			if _, ok, err := r.GetRecord(ctx, "campaign", "c1"); err != nil || ok {
				t.Fatalf("get before put = %v, %v", ok, err)
			}
			if err := r.PutRecord(ctx, "campaign", "c1", []byte(`{"v":1}`), time.Hour, true); err != nil {
				t.Fatal(err)
			}
			if err := r.PutRecord(ctx, "campaign", "c1", []byte(`{"v":2}`), time.Hour, true); err != nil {
				t.Fatal(err)
			}
			v, ok, err := r.GetRecord(ctx, "campaign", "c1")
			if err != nil || !ok || string(v) != `{"v":2}` {
				t.Fatalf("get = %q, %v, %v", v, ok, err)
			}
			// Kinds are separate.
			if _, ok, _ := r.GetRecord(ctx, "other", "c1"); ok {
				t.Fatal("record seen under another kind")
			}
		}},
		{"ActiveIndex", func(t *testing.T, r Records) {
			for _, id := range []string{"a", "b", "c"} {
				if err := r.PutRecord(ctx, "campaign", id, []byte("x"), time.Hour, true); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.PutRecord(ctx, "campaign", "b", []byte("done"), time.Hour, false); err != nil {
				t.Fatal(err)
			}
			if err := r.PutRecord(ctx, "other", "z", []byte("x"), time.Hour, true); err != nil {
				t.Fatal(err)
			}
			ids, err := r.ActiveRecords(ctx, "campaign")
			slices.Sort(ids)
			if err != nil || !slices.Equal(ids, []string{"a", "c"}) {
				t.Fatalf("active = %v, %v; want [a c]", ids, err)
			}
			// A finished record is still readable.
			if v, ok, _ := r.GetRecord(ctx, "campaign", "b"); !ok || string(v) != "done" {
				t.Fatalf("finished record = %q, %v", v, ok)
			}
		}},
		{"Delete", func(t *testing.T, r Records) {
			if gone, err := r.DeleteRecord(ctx, "dnc", "nothing"); err != nil || gone {
				t.Fatalf("delete of a missing record = %v, %v", gone, err)
			}
			for _, id := range []string{"k1:+14155550123", "k1:+14155550124"} {
				if err := r.PutRecord(ctx, "dnc", id, []byte("x"), 5*365*24*time.Hour, true); err != nil {
					t.Fatal(err)
				}
			}
			if gone, err := r.DeleteRecord(ctx, "dnc", "k1:+14155550123"); err != nil || !gone {
				t.Fatalf("delete = %v, %v; want true", gone, err)
			}
			if _, ok, _ := r.GetRecord(ctx, "dnc", "k1:+14155550123"); ok {
				t.Fatal("deleted record still readable")
			}
			if ids, err := r.ActiveRecords(ctx, "dnc"); err != nil || !slices.Equal(ids, []string{"k1:+14155550124"}) {
				t.Fatalf("active after delete = %v, %v", ids, err)
			}
		}},
		{"Expiry", func(t *testing.T, r Records) {
			if err := r.PutRecord(ctx, "campaign", "short", []byte("x"), 200*time.Millisecond, true); err != nil {
				t.Fatal(err)
			}
			time.Sleep(350 * time.Millisecond)
			if _, ok, _ := r.GetRecord(ctx, "campaign", "short"); ok {
				t.Fatal("record readable after its ttl")
			}
			if ids, _ := r.ActiveRecords(ctx, "campaign"); len(ids) != 0 {
				t.Fatalf("expired record still active: %v", ids)
			}
		}},
		{"LeaseOneOwner", func(t *testing.T, r Records) {
			var won atomic.Int32
			var wg sync.WaitGroup
			for i := range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := r.AcquireLease(ctx, "runner:c1", string(rune('a'+i)), 5*time.Second)
					if err != nil {
						t.Error(err)
					}
					if ok {
						won.Add(1)
					}
				}()
			}
			wg.Wait()
			if won.Load() != 1 {
				t.Fatalf("%d owners got the lease, want 1", won.Load())
			}
		}},
		{"LeaseRenewReleaseExpire", func(t *testing.T, r Records) {
			if ok, err := r.AcquireLease(ctx, "l", "me", 300*time.Millisecond); err != nil || !ok {
				t.Fatalf("acquire = %v, %v", ok, err)
			}
			if ok, _ := r.AcquireLease(ctx, "l", "me", 300*time.Millisecond); !ok {
				t.Fatal("owner could not renew")
			}
			if ok, _ := r.AcquireLease(ctx, "l", "you", time.Second); ok {
				t.Fatal("another owner took a held lease")
			}
			if err := r.ReleaseLease(ctx, "l", "you"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := r.AcquireLease(ctx, "l", "you", time.Second); ok {
				t.Fatal("a foreign release dropped the lease")
			}
			if err := r.ReleaseLease(ctx, "l", "me"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := r.AcquireLease(ctx, "l", "you", 200*time.Millisecond); !ok {
				t.Fatal("lease not free after release")
			}
			time.Sleep(350 * time.Millisecond)
			if ok, _ := r.AcquireLease(ctx, "l", "me", time.Second); !ok {
				t.Fatal("lease not free after its ttl")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t).(Records))
		})
	}
}

func TestFileRecordsReadsDoNotCreateTheDatabase(t *testing.T) {
	t.Parallel()
	f := NewFile(t.TempDir(), FileOptions{})
	if ids, err := f.ActiveRecords(context.Background(), "campaign"); err != nil || len(ids) != 0 {
		t.Fatalf("active = %v, %v", ids, err)
	}
	if _, ok, err := f.GetRecord(context.Background(), "campaign", "x"); err != nil || ok {
		t.Fatalf("get = %v, %v", ok, err)
	}
	if !f.missing() {
		t.Fatal("a read created the database file")
	}
}
