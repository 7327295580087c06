package blobstore

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

var _ Store = (*Azure)(nil)

// Azure stores blobs in one container of an Azure Storage account, the key being the blob
// name. The container is provisioned with the infrastructure; EnsureContainer exists for the
// emulator and tests.
type Azure struct {
	client    *azblob.Client
	container string
}

// NewAzure wraps a client the caller owns.
func NewAzure(client *azblob.Client, container string) *Azure {
	return &Azure{client: client, container: container}
}

// NewAzureFromConnectionString connects with a connection string: Azurite in development and
// CI (production uses a managed identity, never an account key).
func NewAzureFromConnectionString(connStr, container string) (*Azure, error) {
	c, err := azblob.NewClientFromConnectionString(connStr, nil)
	if err != nil {
		return nil, fmt.Errorf("blobstore: azure client: %w", err)
	}
	return NewAzure(c, container), nil
}

// NewAzureWithCredential connects to serviceURL ("https://<account>.blob.core.windows.net/")
// with a token credential such as a managed identity.
func NewAzureWithCredential(serviceURL string, cred azcore.TokenCredential, container string) (*Azure, error) {
	c, err := azblob.NewClient(serviceURL, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("blobstore: azure client: %w", err)
	}
	return NewAzure(c, container), nil
}

// EnsureContainer creates the container if it does not exist yet.
func (a *Azure) EnsureContainer(ctx context.Context) error {
	_, err := a.client.CreateContainer(ctx, a.container, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("blobstore: create container %s: %w", a.container, err)
	}
	return nil
}

// Put uploads data in one request (UploadBuffer only splits blobs above 256 MiB), so the blob
// is replaced whole.
func (a *Azure) Put(ctx context.Context, key string, data []byte, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	var headers *blob.HTTPHeaders
	if contentType != "" {
		headers = &blob.HTTPHeaders{BlobContentType: &contentType}
	}
	_, err := a.client.UploadBuffer(ctx, a.container, key, data, &azblob.UploadBufferOptions{HTTPHeaders: headers})
	if err != nil {
		return fmt.Errorf("blobstore: put: %w", err)
	}
	return nil
}

// Delete removes the blob and its snapshots (without "include", a blob with snapshots refuses
// to go). BlobNotFound is success, so an erasure can be repeated; a missing container is an
// error, since it means misconfiguration rather than an erased blob.
//
// With soft delete or versioning enabled on the account, Azure keeps the data for the
// retention period; that is an infrastructure setting, not something this call controls.
func (a *Azure) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := a.client.DeleteBlob(ctx, a.container, key, &azblob.DeleteBlobOptions{
		DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude),
	})
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("blobstore: delete: %w", err)
	}
	return nil
}

// Exists asks for the blob's properties (a HEAD request, no body). The 404 of a HEAD carries
// its code in the x-ms-error-code header, which the SDK reads into the error.
func (a *Azure) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	_, err := a.client.ServiceClient().NewContainerClient(a.container).NewBlobClient(key).GetProperties(ctx, nil)
	switch {
	case err == nil:
		return true, nil
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("blobstore: exists: %w", err)
	}
}

// Create uploads with If-None-Match: *, so the service refuses (409 BlobAlreadyExists) a
// key that holds a blob, atomically; a container with an immutability policy would refuse
// the overwrite anyway, but without saying why.
func (a *Azure) Create(ctx context.Context, key string, data []byte, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	opts := &azblob.UploadBufferOptions{AccessConditions: &blob.AccessConditions{
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}}
	if contentType != "" {
		opts.HTTPHeaders = &blob.HTTPHeaders{BlobContentType: &contentType}
	}
	_, err := a.client.UploadBuffer(ctx, a.container, key, data, opts)
	switch {
	case bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet):
		return fmt.Errorf("blobstore: create: %w", ErrExists)
	case err != nil:
		return fmt.Errorf("blobstore: create: %w", err)
	}
	return nil
}

// Get downloads a blob.
func (a *Azure) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	resp, err := a.client.DownloadStream(ctx, a.container, key, nil)
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		return nil, fmt.Errorf("blobstore: get: %w", ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("blobstore: get: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("blobstore: get: %w", err)
	}
	return data, nil
}

// List pages through the flat listing of prefix; the service returns names in byte order.
func (a *Azure) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var keys []string
	pager := a.client.NewListBlobsFlatPager(a.container, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(prefix)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("blobstore: list: %w", err)
		}
		for _, item := range page.Segment.BlobItems {
			keys = append(keys, *item.Name)
		}
	}
	return keys, nil
}

// ListDirs pages through the hierarchical listing of prefix with "/" as the delimiter.
func (a *Azure) ListDirs(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var names []string
	pager := a.client.ServiceClient().NewContainerClient(a.container).NewListBlobsHierarchyPager("/",
		&container.ListBlobsHierarchyOptions{Prefix: to.Ptr(prefix)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("blobstore: list: %w", err)
		}
		for _, p := range page.Segment.BlobPrefixes {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(*p.Name, prefix), "/"))
		}
	}
	return names, nil
}
