#include <cstdio>
int main() { std::puts("ark"); return 0; }
