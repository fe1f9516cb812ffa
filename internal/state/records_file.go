package state

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketRecords = []byte("records")
	bucketActive  = []byte("active")
	bucketLeases  = []byte("leases")
)

type fileRecord struct {
	Val     []byte `json:"v"`
	Expires int64  `json:"e"`
}

type fileLease struct {
	Owner   string `json:"o"`
	Expires int64  `json:"e"`
}

// missing reports whether the database file does not exist yet: reads then
// answer "nothing" without creating it.
func (f *File) missing() bool {
	_, err := os.Stat(f.path)
	return errors.Is(err, os.ErrNotExist)
}

// PutRecord implements Records.
func (f *File) PutRecord(ctx context.Context, kind, id string, val []byte, ttl time.Duration, active bool) error {
	return f.update(ctx, "put record", func(tx *bolt.Tx, now time.Time) error {
		k := []byte(recordKey(kind, id))
		if err := putJSON(tx, bucketRecords, k, fileRecord{Val: val, Expires: now.Add(ttl).UnixNano()}); err != nil {
			return err
		}
		if active {
			return tx.Bucket(bucketActive).Put(k, nil)
		}
		return tx.Bucket(bucketActive).Delete(k)
	})
}

// GetRecord implements Records.
func (f *File) GetRecord(ctx context.Context, kind, id string) ([]byte, bool, error) {
	if f.missing() {
		return nil, false, ctx.Err()
	}
	var (
		out []byte
		ok  bool
	)
	err := f.view(ctx, "get record", func(tx *bolt.Tx, now time.Time) error {
		var r fileRecord
		found, err := getJSON(tx, bucketRecords, []byte(recordKey(kind, id)), &r)
		if err != nil || !found || !live(r.Expires, now) {
			return err
		}
		out, ok = r.Val, true
		return nil
	})
	return out, ok, err
}

// ActiveRecords implements Records.
func (f *File) ActiveRecords(ctx context.Context, kind string) ([]string, error) {
	if f.missing() {
		return nil, ctx.Err()
	}
	var ids []string
	err := f.view(ctx, "list records", func(tx *bolt.Tx, now time.Time) error {
		prefix := []byte(kind + "\x00")
		c := tx.Bucket(bucketActive).Cursor()
		for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
			var r fileRecord
			found, err := getJSON(tx, bucketRecords, k, &r)
			if err != nil {
				return err
			}
			if found && live(r.Expires, now) {
				ids = append(ids, string(k[len(prefix):]))
			}
		}
		return nil
	})
	return ids, err
}

// AcquireLease implements Records.
func (f *File) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	var ok bool
	err := f.update(ctx, "acquire lease", func(tx *bolt.Tx, now time.Time) error {
		var l fileLease
		found, err := getJSON(tx, bucketLeases, []byte(name), &l)
		if err != nil {
			return err
		}
		if found && live(l.Expires, now) && l.Owner != owner {
			return nil
		}
		ok = true
		return putJSON(tx, bucketLeases, []byte(name), fileLease{Owner: owner, Expires: now.Add(ttl).UnixNano()})
	})
	return ok, err
}

// DeleteRecord implements Records.
func (f *File) DeleteRecord(ctx context.Context, kind, id string) (bool, error) {
	if f.missing() {
		return false, ctx.Err()
	}
	found := false
	err := f.update(ctx, "delete record", func(tx *bolt.Tx, now time.Time) error {
		k := []byte(recordKey(kind, id))
		var r fileRecord
		ok, err := getJSON(tx, bucketRecords, k, &r)
		if err != nil {
			return err
		}
		found = ok && live(r.Expires, now)
		if err := tx.Bucket(bucketActive).Delete(k); err != nil {
			return err
		}
		return tx.Bucket(bucketRecords).Delete(k)
	})
	return found, err
}

// ReleaseLease implements Records.
func (f *File) ReleaseLease(ctx context.Context, name, owner string) error {
	return f.update(ctx, "release lease", func(tx *bolt.Tx, now time.Time) error {
		var l fileLease
		found, err := getJSON(tx, bucketLeases, []byte(name), &l)
		if err != nil || !found || l.Owner != owner {
			return err
		}
		return tx.Bucket(bucketLeases).Delete([]byte(name))
	})
}
