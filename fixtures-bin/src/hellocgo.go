// A Go program that calls C, so it links libc dynamically.
package main

// #include <stdlib.h>
import "C"
import "os"

func main() { os.Stdout.WriteString(C.GoString(C.getenv(C.CString("HOME")))) }
