/* Loads librelay.so.1 through RUNPATH $ORIGIN/../lib; librelay.so.1 loads libgreet.so.1 from there too. */
int relay(const char *who);
int main(void) { return relay("chain") < 0; }
