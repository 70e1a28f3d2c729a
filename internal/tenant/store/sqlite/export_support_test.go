package sqlite

// KnownMigrations lists the version of every migration this build knows, in order.
func KnownMigrations() []int {
	out := make([]int, len(migrations))
	for i, m := range migrations {
		out[i] = m.version
	}
	return out
}
