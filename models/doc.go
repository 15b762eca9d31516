// Package models holds hookd's domain types, the Store that reads and writes
// them through gorm (PostgreSQL or SQLite), and the domain errors. It knows
// nothing of HTTP or of the queue: the API and the dispatcher both call it.
package models
