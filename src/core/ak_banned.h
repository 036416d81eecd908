/* ak_banned.h — functions asakai never calls (git's banned.h). Include it last in every .c. */
#ifndef AK_BANNED_H
#define AK_BANNED_H

#define AK_BANNED(f) sorry_##f##_is_banned_in_asakai

#undef strcpy
#define strcpy(...) AK_BANNED(strcpy)
#undef strcat
#define strcat(...) AK_BANNED(strcat)
#undef strncpy
#define strncpy(...) AK_BANNED(strncpy)
#undef strncat
#define strncat(...) AK_BANNED(strncat)
#undef sprintf
#define sprintf(...) AK_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) AK_BANNED(vsprintf)
#undef strtok
#define strtok(...) AK_BANNED(strtok)
#undef atoi
#define atoi(...) AK_BANNED(atoi)
#undef atol
#define atol(...) AK_BANNED(atol)
#undef gmtime
#define gmtime(...) AK_BANNED(gmtime)
#undef localtime
#define localtime(...) AK_BANNED(localtime)
#undef ctime
#define ctime(...) AK_BANNED(ctime)
#undef asctime
#define asctime(...) AK_BANNED(asctime)
#undef mktemp
#define mktemp(...) AK_BANNED(mktemp)
#undef popen
#define popen(...) AK_BANNED(popen)

#endif
