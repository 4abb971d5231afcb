// kubectl built from the k8s.io/kubectl module at the rig's pinned version (test rig only): the
// client the tests use, so that client and server versions match (Debian's kubernetes-client is
// far older than the API server).
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
