// Command ipfs is Kubo's own entry point, built from the version pinned in go.mod so
// that the development stack, the tests and the Pi image all run the same daemon.
package main

import (
	"os"

	"github.com/ipfs/kubo/cmd/ipfs/kubo"
)

func main() {
	os.Exit(kubo.Start(kubo.BuildDefaultEnv))
}
