// C++ with libstdc++ and libgcc_s (exceptions).
#include <iostream>
#include <stdexcept>
int main(int argc, char **) {
    try { if (argc > 2) throw std::runtime_error("x"); std::cout << "hello" << std::endl; }
    catch (const std::exception &e) { std::cerr << e.what() << std::endl; return 1; }
    return 0;
}
