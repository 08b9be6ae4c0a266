// A Go program; built with CGO_ENABLED=0 (static) and =1 (dynamic, glibc).
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
