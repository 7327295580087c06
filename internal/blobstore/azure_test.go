package blobstore_test

import (
	"context"
	"io"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/testenv"
)

// newAzure returns an adapter on a fresh container, deleted when the test ends.
func newAzure(t *testing.T) (*blobstore.Azure, *azblob.Client, string) {
	t.Helper()
	client, err := azblob.NewClientFromConnectionString(testenv.Azurite(t), nil)
	require.NoError(t, err)
	container := testenv.Name(t, "blobstore")
	a := blobstore.NewAzure(client, container)
	require.NoError(t, a.EnsureContainer(context.Background()))
	require.NoError(t, a.EnsureContainer(context.Background()), "EnsureContainer is idempotent")
	t.Cleanup(func() { _, _ = client.DeleteContainer(context.Background(), container, nil) })
	return a, client, container
}

func TestAzure(t *testing.T) {
	a, client, container := newAzure(t)
	testBlobs(t, a, func(t *testing.T, key string) []byte {
		resp, err := client.DownloadStream(context.Background(), container, key, nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return data
	})
}

func TestAzureStoresContentType(t *testing.T) {
	ctx := context.Background()
	a, client, container := newAzure(t)
	require.NoError(t, a.Put(ctx, "demo/users/u1/photo", []byte("png"), "image/png"))

	props, err := client.ServiceClient().NewContainerClient(container).NewBlobClient("demo/users/u1/photo").GetProperties(ctx, nil)
	require.NoError(t, err)
	require.NotNil(t, props.ContentType)
	require.Equal(t, "image/png", *props.ContentType)
}

// A missing container is misconfiguration, not an erased blob: Delete and Exists report it.
func TestAzureMissingContainerIsAnError(t *testing.T) {
	ctx := context.Background()
	client, err := azblob.NewClientFromConnectionString(testenv.Azurite(t), nil)
	require.NoError(t, err)
	a := blobstore.NewAzure(client, testenv.Name(t, "blobstore")) // never created

	require.Error(t, a.Delete(ctx, "demo/x"))
	_, err = a.Exists(ctx, "demo/x")
	require.Error(t, err)
}

func TestNewAzureFromConnectionString(t *testing.T) {
	_, err := blobstore.NewAzureFromConnectionString("not a connection string", "c")
	require.Error(t, err)
	container := testenv.Name(t, "blobstore")
	a, err := blobstore.NewAzureFromConnectionString(testenv.Azurite(t), container)
	require.NoError(t, err)
	require.NoError(t, a.EnsureContainer(context.Background()))
	client, err := azblob.NewClientFromConnectionString(testenv.Azurite(t), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = client.DeleteContainer(context.Background(), container, nil) })
	ok, err := a.Exists(context.Background(), "demo/x")
	require.NoError(t, err)
	require.False(t, ok)
}
