package state

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxRecordTTL bounds how long the active index of a kind lives after its
// latest write (records themselves carry their own TTL).
const maxRecordTTL = 8 * 24 * time.Hour

var leaseScript = lazyScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

// PutRecord implements Records.
func (r *Redis) PutRecord(ctx context.Context, kind, id string, val []byte, ttl time.Duration, active bool) error {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	idx := r.key("active", kind)
	_, err := r.client.TxPipelined(octx, func(p redis.Pipeliner) error {
		p.Set(octx, r.key("rec:"+kind, id), val, time.Duration(ms(ttl))*time.Millisecond)
		if active {
			p.SAdd(octx, idx, id)
			p.PExpire(octx, idx, max(maxRecordTTL, ttl))
		} else {
			p.SRem(octx, idx, id)
		}
		return nil
	})
	if err != nil {
		return r.fail(ctx, "put record", err)
	}
	return nil
}

// GetRecord implements Records.
func (r *Redis) GetRecord(ctx context.Context, kind, id string) ([]byte, bool, error) {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	v, err := r.client.Get(octx, r.key("rec:"+kind, id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, r.fail(ctx, "get record", err)
	}
	return v, true, nil
}

// ActiveRecords implements Records.
func (r *Redis) ActiveRecords(ctx context.Context, kind string) ([]string, error) {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	idx := r.key("active", kind)
	ids, err := r.client.SMembers(octx, idx).Result()
	if err != nil {
		return nil, r.fail(ctx, "list records", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.IntCmd, len(ids))
	_, err = r.client.Pipelined(octx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Exists(octx, r.key("rec:"+kind, id))
		}
		return nil
	})
	if err != nil {
		return nil, r.fail(ctx, "list records", err)
	}
	var live, dead []string
	for i, id := range ids {
		if cmds[i].Val() == 1 {
			live = append(live, id)
		} else {
			dead = append(dead, id)
		}
	}
	if len(dead) > 0 {
		_ = r.client.SRem(octx, idx, dead).Err()
	}
	return live, nil
}

// DeleteRecord implements Records.
func (r *Redis) DeleteRecord(ctx context.Context, kind, id string) (bool, error) {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	var del *redis.IntCmd
	_, err := r.client.TxPipelined(octx, func(p redis.Pipeliner) error {
		del = p.Del(octx, r.key("rec:"+kind, id))
		p.SRem(octx, r.key("active", kind), id)
		return nil
	})
	if err != nil {
		return false, r.fail(ctx, "delete record", err)
	}
	return del.Val() == 1, nil
}

// AcquireLease implements Records.
func (r *Redis) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	n, err := leaseScript().Run(octx, r.client, []string{r.key("lease", name)}, owner, ms(ttl)).Int()
	if err != nil {
		return false, r.fail(ctx, "acquire lease", err)
	}
	return n == 1, nil
}

// ReleaseLease implements Records.
func (r *Redis) ReleaseLease(ctx context.Context, name, owner string) error {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	if err := compareDeleteScript().Run(octx, r.client, []string{r.key("lease", name)}, owner).Err(); err != nil {
		return r.fail(ctx, "release lease", err)
	}
	return nil
}
