# Convenience wrappers; ./dev is the real entry point (it needs no make).
.PHONY: run test setup lint bench stop
run test setup lint bench stop:
	./dev $@
