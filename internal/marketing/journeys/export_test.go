package journeys

import (
	"context"
	"time"
)

// SetHooks installs the test hooks: afterStep runs after each committed step
// (an error stops the pass, as a crash would); beforeCommit runs inside a
// step's transaction after its side effects (an error rolls it all back).
func (s *Service) SetHooks(afterStep, beforeCommit func(enrolment int64, step string) error) {
	s.afterStep, s.beforeCommit = afterStep, beforeCommit
}

// WaitUntil exposes when a wait that began at from ends.
func (s *Service) WaitUntil(ctx context.Context, ws int64, w WaitStep, from time.Time) time.Time {
	return s.waitUntil(ctx, s.DB.Reader(), ws, w, from)
}
