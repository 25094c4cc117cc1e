package sequences

// SetBeforeCommit installs a hook that runs inside a step's transaction
// after its side effects; an error rolls the whole step back (a crash).
func (s *Service) SetBeforeCommit(fn func(enrolment int64, step int) error) { s.beforeCommit = fn }
