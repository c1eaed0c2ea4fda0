// Placeholder until the interpreter driver lands.
int main() { return 1; }
