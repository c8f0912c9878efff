// Placeholder so that the component library exists before its first source.
namespace mh {
int http_placeholder = 0;
}
