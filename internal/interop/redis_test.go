package interop

import (
	"bufio"
	"net"
	"testing"
	"time"
)

func TestStartRedis(t *testing.T) {
	var addr string
	t.Run("use", func(t *testing.T) {
		addr = StartRedis(t)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("SET k v1\r\nGET k\r\nCONFIG GET save\r\n")); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		var got string
		for range 8 { // +OK, $2 v1, *2 $4 save $0 (empty)
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			got += line
		}
		if want := "+OK\r\n$2\r\nv1\r\n*2\r\n$4\r\nsave\r\n$0\r\n\r\n"; got != want {
			t.Fatalf("redis answered %q, want %q", got, want)
		}
	})
	if addr == "" {
		t.Fatal("no address")
	}
	// The server is gone once the test that started it has ended.
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("redis at %s still accepts connections", addr)
	}
}
