// Placeholder so that the component library exists before its first source.
namespace mh {
int csv_placeholder = 0;
}
