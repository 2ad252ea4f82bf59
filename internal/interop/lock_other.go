//go:build !unix

package interop

// lockFile is a no-op where flock is unavailable: parallel test processes may
// then run npm ci at the same time, which at worst fails one of them.
func lockFile(string) (func(), error) { return func() {}, nil }
