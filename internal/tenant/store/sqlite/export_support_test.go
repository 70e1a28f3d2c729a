package sqlite

import "context"

// KnownMigrations lists the version of every migration this build knows, in order.
func KnownMigrations() []int {
	out := make([]int, len(migrations))
	for i, m := range migrations {
		out[i] = m.version
	}
	return out
}

// OpenAtVersion opens path applying only the migrations up to version, as an older build would have.
func OpenAtVersion(ctx context.Context, path string, version int) (*Store, error) {
	var steps []migration
	for _, m := range migrations {
		if m.version <= version {
			steps = append(steps, m)
		}
	}
	return open(ctx, path, steps)
}

// CountedUsers reads the user count the triggers keep (user_count) and a fresh COUNT(*).
func (s *Store) CountedUsers(ctx context.Context) (kept, counted int, err error) {
	if err := s.db.R.QueryRowContext(ctx, `SELECT n FROM user_count WHERE id = 0`).Scan(&kept); err != nil {
		return 0, 0, err
	}
	err = s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&counted)
	return kept, counted, err
}

// ProbeCounts returns how many ListUsers order-scan probes answered the page and how many gave up.
func (s *Store) ProbeCounts() (hit, miss int64) { return s.probes.hit.Load(), s.probes.miss.Load() }
