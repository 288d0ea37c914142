package itsm

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// maxCachedKeys bounds the CI key cache; past it the cache starts over.
const maxCachedKeys = 200_000

// ciKeys caches CI keys by id as of one cmdb_version, for naming the CIs
// and services of listed incidents. Every insert, update and delete of a
// CI bumps cmdb_version in the same transaction (migration 00002), and a
// list statement reads the version with its rows, so a cached key is used
// only for a listing that saw the very CMDB the key was read from.
type ciKeys struct {
	mu      sync.Mutex
	version int64
	keys    map[int64]string
}

// name fills the affected CIs and services of items, in key order, from
// links (CI and service ids per item) read at cmdb_version version.
func (c *ciKeys) name(ctx context.Context, q postgres.Querier, version int64, items []Incident, links [][2][]int64) error {
	keys, missing := c.lookup(version, links)
	if len(missing) > 0 {
		var readAt int64
		fetched := make(map[int64]string, len(missing))
		rows, err := q.Query(ctx, `SELECT (SELECT v.version FROM cmdb_version v WHERE v.id = 1), c.id, c.key
			FROM cis c WHERE c.id = ANY ($1)`, missing)
		if err != nil {
			return fmt.Errorf("name CIs: %w", err)
		}
		var id int64
		var key string
		for rows.Next() {
			if err := rows.Scan(&readAt, &id, &key); err != nil {
				rows.Close()
				return fmt.Errorf("name CIs: %w", err)
			}
			fetched[id] = key
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("name CIs: %w", err)
		}
		for id, key := range fetched {
			keys[id] = key
		}
		// Keys read at a later version than the listing are still right
		// for it unless a CI was renamed in between; they are used for this
		// page (as if it had been read a moment later) but not kept.
		if readAt == version {
			c.store(version, fetched)
		}
	}
	for n := range items {
		items[n].AffectedCIs = namedKeys(keys, links[n][0])
		items[n].AffectedServices = namedKeys(keys, links[n][1])
	}
	return nil
}

// lookup returns the cached keys of every id in links, when the cache is at
// version, and the ids it lacks.
func (c *ciKeys) lookup(version int64, links [][2][]int64) (map[int64]string, []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := map[int64]string{}
	var missing []int64
	for _, l := range links {
		for _, ids := range l {
			for _, id := range ids {
				if _, ok := keys[id]; ok {
					continue
				}
				if key, ok := c.keys[id]; ok && c.version == version {
					keys[id] = key
				} else if !slices.Contains(missing, id) {
					missing = append(missing, id)
				}
			}
		}
	}
	return keys, missing
}

// store keeps keys read at version. A newer version replaces the cache; an
// older one (a slower request) is dropped.
func (c *ciKeys) store(version int64, keys map[int64]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return
	}
	if version > c.version || c.keys == nil || len(c.keys)+len(keys) > maxCachedKeys {
		c.version, c.keys = version, make(map[int64]string, len(keys))
	}
	for id, key := range keys {
		c.keys[id] = key
	}
}

// namedKeys maps ids to their keys, sorted as the single-record reads sort
// them; no links is an empty list.
func namedKeys(keys map[int64]string, ids []int64) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, keys[id])
	}
	slices.Sort(out)
	return out
}
