/* libcurl_floor - the memory floor of any program built on Debian's libcurl:
 * it links libcurl exactly as drudge-email and drudge-http do, initialises
 * it (curl_global_init + one easy handle, which loads and sets up OpenSSL),
 * and then only waits to be stopped. bench/run.py reads its VmRSS next to
 * the workers' so that their figures can be read as "the floor + drudge".
 *   libcurl_floor          (runs until SIGTERM/SIGINT) */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "libcurl_floor: curl_global_init failed\n");
        return 1;
    }
    CURL *h = curl_easy_init();
    if (h == NULL) {
        fprintf(stderr, "libcurl_floor: curl_easy_init failed\n");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return 0;
}
