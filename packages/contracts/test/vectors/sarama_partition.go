//go:build ignore

// Independent reference for saramaPartition/spanPartition in src/partitioning.ts: the partition the OpenTelemetry
// Collector's Kafka exporter picks with partition_traces_by_id (franz-go's SaramaCompatHasher over hash/fnv's
// 32-bit FNV-1a). Not part of any build (the ignore tag above; nothing compiles Go in this repo).
//
// Regenerate from packages/contracts:
//
//	go run test/vectors/sarama_partition.go > test/vectors/sarama-partition.json
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"os"
	"strconv"
)

type vector struct {
	Key        string         `json:"key"`
	Fnv32a     uint32         `json:"fnv32a"`
	Int32      int32          `json:"int32"`
	Partitions map[string]int `json:"partitions"`
}

// saramaCompat is franz-go's kgo.SaramaCompatHasher(fnv32a), which is what sarama's default hash partitioner does.
func saramaCompat(key []byte, n int) int {
	h := fnv.New32a()
	h.Write(key)
	p := int32(h.Sum32()) % int32(n)
	if p < 0 {
		p = -p
	}
	return int(p)
}

func makeVector(key string) vector {
	h := fnv.New32a()
	h.Write([]byte(key))
	v := vector{Key: key, Fnv32a: h.Sum32(), Int32: int32(h.Sum32()), Partitions: map[string]int{}}
	for _, n := range []int{1, 3, 7, 12, 64, 100} {
		v.Partitions[strconv.Itoa(n)] = saramaCompat([]byte(key), n)
	}
	return v
}

func main() {
	keys := []string{"", "a", "foobar", "meshloop", "checkout", "ключ", "00000000000000000000000000000000",
		"4bf92f3577b34da6a3ce929d0e0e4736"}
	// Pseudo-random trace ids (lowercase hex of 16 bytes), chosen so that half hash to a negative int32.
	negative, positive := 0, 0
	for i := 0; negative < 7 || positive < 7; i++ {
		sum := sha256.Sum256([]byte("meshloop-trace-" + strconv.Itoa(i)))
		id := hex.EncodeToString(sum[:16])
		h := fnv.New32a()
		h.Write([]byte(id))
		if int32(h.Sum32()) < 0 && negative < 7 {
			negative++
			keys = append(keys, id)
		} else if int32(h.Sum32()) >= 0 && positive < 7 {
			positive++
			keys = append(keys, id)
		}
	}
	vectors := make([]vector, 0, len(keys))
	for _, k := range keys {
		vectors = append(vectors, makeVector(k))
	}
	out, err := json.MarshalIndent(vectors, "", "  ")
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(out, '\n'))
}
