package campaign

import (
	"errors"

	"github.com/byourside/bys-mcp/internal/safety"
)

// The API key a campaign dials with is kept in its record so that another
// process can continue the campaign, sealed (safety.SealKey) with the
// store's shared secret, bound to the campaign id: a record read on its own
// (a dump of the records, a log) does not reveal it.

const sealLabel = "bys-mcp campaign key v1"

func sealKey(secret []byte, campaignID, apiKey string) (string, error) {
	return safety.SealKey(secret, sealLabel, campaignID, apiKey)
}

func openKey(secret []byte, campaignID, sealed string) (string, error) {
	key, err := safety.OpenKey(secret, sealLabel, campaignID, sealed)
	if errors.Is(err, safety.ErrSealedKey) {
		return "", errors.New("campaign: sealed key does not open with this store's secret")
	}
	return key, err
}
