# The unit tier's node --test arguments: the loader that runs the unit files in one process
# (test/helpers/unit-together.ts), then each file marked `// unit: own process` on its own.
unit_files() {
  echo test/helpers/unit-together.ts
  grep -l '^// unit: own process' test/unit/*.test.ts | sort
}
