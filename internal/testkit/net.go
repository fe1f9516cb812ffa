package testkit

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// MustFreeAddr is FreeAddr failing the test on error.
func MustFreeAddr(tb testing.TB) string {
	tb.Helper()
	addr, err := FreeAddr()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}

// FreePort is the port of MustFreeAddr.
func FreePort(tb testing.TB) string {
	tb.Helper()
	_, port, _ := net.SplitHostPort(MustFreeAddr(tb))
	return port
}
