"""The policy: who may do what (the rules table of docs/safety.md), the content
filter, the send limits, a school's settings, and the guard that feeds the
rules from the store.  Features ask it; it asks the store and nothing above."""
