// tessera-factory (placeholder until its implementation lands).
int main() { return 1; }
