package dataio

import (
	"testing"
	"time"
)

func TestAdapt_BatchSizeMovesGraduallyTowardsTheTarget(t *testing.T) {
	const target = 30 * time.Millisecond
	for _, c := range []struct {
		name string
		size int
		took time.Duration
		want int
	}{
		{"a quick batch grows the next by a quarter, not more", 1000, 5 * time.Millisecond, 1250},
		{"a batch a little under the target grows in proportion", 1000, 27 * time.Millisecond, 1111},
		{"a batch on the target keeps its size", 1000, target, 1000},
		{"a slow batch shrinks the next in proportion", 1000, 40 * time.Millisecond, 750},
		{"a very slow batch halves the next, no more", 1000, 200 * time.Millisecond, 500},
		{"no measurement grows by a quarter", 400, 0, 500},
		{"never under 50 rows", 60, time.Second, 50},
		{"never over 5,000 rows", 4800, time.Millisecond, 5000},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := adapt(c.size, c.took, target); got != c.want {
				t.Errorf("adapt(%d, %s) = %d, want %d", c.size, c.took, got, c.want)
			}
		})
	}
}
