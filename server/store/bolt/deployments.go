package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// deploymentNameKey is <flow_name> 0x00 <name>; it equals
// store.DeploymentCursor, so a cursor is a position in the name index.
func deploymentNameKey(flowName, name string) []byte {
	return join([]byte(flowName), sep, []byte(name))
}

// Deployment implements store.Tx.
func (t *tx) Deployment(id string) (*orionv1.Deployment, error) {
	d := new(orionv1.Deployment)
	ok, err := t.get(bucketDeployments, id, d)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("deployment", id)
	}
	return d, nil
}

// DeploymentByName implements store.Tx.
func (t *tx) DeploymentByName(flowName, name string) (*orionv1.Deployment, error) {
	id := t.lookup(bucketDeploymentsByName, deploymentNameKey(flowName, name))
	if id == "" {
		return nil, notFound("deployment", flowName+"/"+name)
	}
	return t.Deployment(id)
}

// PutDeployment implements store.Tx.
func (t *tx) PutDeployment(d *orionv1.Deployment) error {
	if err := t.checkWritable("put deployment"); err != nil {
		return err
	}
	if err := validKey("deployment", "id", d.GetId()); err != nil {
		return err
	}
	if err := validKey("deployment", "name", d.GetName()); err != nil {
		return err
	}
	if err := validKey("deployment", "flow name", d.GetFlowName()); err != nil {
		return err
	}
	key := deploymentNameKey(d.GetFlowName(), d.GetName())
	if err := t.claimName(bucketDeploymentsByName, key, d.GetId(), "deployment", d.GetFlowName()+"/"+d.GetName()); err != nil {
		return err
	}
	v, err := encode("deployment", d.GetId(), d)
	if err != nil {
		return err
	}
	// The name index already pointing at d means the name is unchanged
	// (names are unique): only a renamed deployment needs its old record.
	if t.lookup(bucketDeploymentsByName, key) != d.GetId() {
		old := new(orionv1.Deployment)
		ok, err := t.get(bucketDeployments, d.GetId(), old)
		if err != nil {
			return err
		}
		if oldKey := deploymentNameKey(old.GetFlowName(), old.GetName()); ok && !bytes.Equal(oldKey, key) {
			if err := t.del(bucketDeploymentsByName, oldKey); err != nil {
				return err
			}
		}
		if err := t.put(bucketDeploymentsByName, key, []byte(d.GetId())); err != nil {
			return err
		}
	}
	if err := t.bumpDeploymentsVersion(); err != nil {
		return err
	}
	return t.put(bucketDeployments, []byte(d.GetId()), v)
}

// DeploymentsVersion implements store.Tx.
func (t *tx) DeploymentsVersion() uint64 {
	v, _ := getUint64(t.bucket(bucketMeta), keyDeploymentsVersion)
	return v
}

func (t *tx) bumpDeploymentsVersion() error {
	return t.put(bucketMeta, keyDeploymentsVersion, binary.BigEndian.AppendUint64(nil, t.DeploymentsVersion()+1))
}

// DeleteDeployment implements store.Tx. The deployment's runs stay; they
// are the caller's concern.
func (t *tx) DeleteDeployment(id string) error {
	if err := t.checkWritable("delete deployment"); err != nil {
		return err
	}
	d, err := t.Deployment(id)
	if err != nil {
		return err
	}
	if err := t.del(bucketDeploymentsByName, deploymentNameKey(d.GetFlowName(), d.GetName())); err != nil {
		return err
	}
	if err := t.bumpDeploymentsVersion(); err != nil {
		return err
	}
	return t.del(bucketDeployments, []byte(id))
}

// ListDeployments implements store.Tx. It walks the name index, so results
// are sorted by (flow_name, name) and FlowName is a prefix seek.
func (t *tx) ListDeployments(f store.DeploymentFilter) ([]*orionv1.Deployment, error) {
	var pfx []byte
	if f.FlowName != "" {
		pfx = prefix(f.FlowName)
	}
	start := pfx
	after := []byte(f.After)
	if f.After != "" && bytes.Compare(after, start) > 0 {
		start = after
	}
	var out []*orionv1.Deployment
	c := t.bucket(bucketDeploymentsByName).Cursor()
	k, v := c.Seek(start)
	if k != nil && f.After != "" && bytes.Equal(k, after) {
		k, v = c.Next()
	}
	for ; k != nil && bytes.HasPrefix(k, pfx); k, v = c.Next() {
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
		d, err := t.Deployment(string(v))
		if err != nil {
			return nil, fmt.Errorf("deployment name index %q: %w", k, err)
		}
		if !hasAll(d.GetTags(), f.Tags) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}
