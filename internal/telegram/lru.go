package telegram

import "container/list"

// lru is a bounded map that forgets the least recently used key first. It
// is not safe for concurrent use; its owner locks.
type lru[K comparable, V any] struct {
	size int
	ll   *list.List // front: most recently used
	m    map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](size int) *lru[K, V] {
	return &lru[K, V]{size: max(size, 1), ll: list.New(), m: make(map[K]*list.Element)}
}

// get returns key's value and marks it used.
func (c *lru[K, V]) get(key K) (V, bool) {
	e, ok := c.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*lruEntry[K, V]).val, true
}

// put sets key's value, marks it used and evicts the oldest beyond size.
func (c *lru[K, V]) put(key K, val V) {
	if e, ok := c.m[key]; ok {
		e.Value.(*lruEntry[K, V]).val = val
		c.ll.MoveToFront(e)
		return
	}
	c.m[key] = c.ll.PushFront(&lruEntry[K, V]{key, val})
	if c.ll.Len() > c.size {
		oldest := c.ll.Back()
		c.ll.Remove(oldest)
		delete(c.m, oldest.Value.(*lruEntry[K, V]).key)
	}
}

func (c *lru[K, V]) remove(key K) {
	if e, ok := c.m[key]; ok {
		c.ll.Remove(e)
		delete(c.m, key)
	}
}

func (c *lru[K, V]) len() int { return c.ll.Len() }
