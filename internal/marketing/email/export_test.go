package email

import (
	"context"

	"github.com/ryorin/ryorin/internal/platform"
)

// HandleSend runs the send job's handler directly, as a restarted worker would.
func (s *Service) HandleSend(ctx context.Context, j platform.Job) error { return s.handleSend(ctx, j) }
